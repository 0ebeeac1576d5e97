// The per-request path every stand-in shares: count the request, serve a scripted failure or read the
// body under the size cap and let the protocol handler answer, apply slowness, write the reply.
import type { IncomingMessage, RequestListener } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FailurePlan, FaultSwitches } from './faults.ts';
import { type Reply, retryAfterHeader, writeReply } from './reply.ts';
import { drainRequestBody, type ReceivedBody, readRequestBody } from './request-body.ts';
import type { TrafficCounters } from './traffic.ts';

export interface ReceiverSpec {
  faults: FaultSwitches;
  traffic: TrafficCounters;
  /** Cap on the request body as sent; see {@link readRequestBody}. */
  maxContentLength(): number;
  /** Content type for JSON replies (ES answers in the media type the client asked for). */
  jsonContentType(req: IncomingMessage): string;
  /** Requests that scripted failures (failNext) apply to. */
  isDelivery(req: IncomingMessage, url: URL): boolean;
  /** The product's own answer for a scripted failure with no explicit body. */
  failureBody(status: number): Pick<Reply, 'json' | 'text' | 'headers'>;
  handle(req: IncomingMessage, url: URL, body: ReceivedBody): Reply | Promise<Reply>;
}

export function receiverRequestListener(spec: ReceiverSpec): RequestListener {
  return (req, res) => {
    void (async () => {
      spec.traffic.countRequest();
      const url = new URL(req.url ?? '/', 'http://receiver.invalid');
      let reply: Reply;
      try {
        const failure = spec.isDelivery(req, url) ? spec.faults.takeFailure() : undefined;
        if (failure) {
          await drainRequestBody(req, spec.traffic);
          reply = scriptedFailure(failure, spec);
        } else {
          const before = spec.faults.delayAt('before-processing');
          if (before > 0) await delay(before);
          const body = await readRequestBody(req, spec.maxContentLength(), spec.traffic);
          reply = await spec.handle(req, url, body);
        }
      } catch (err) {
        if (req.destroyed) return;
        reply = { status: 500, text: `receiver error: ${(err as Error).message}` };
      }
      const after = spec.faults.delayAt('after-processing');
      if (after > 0) await delay(after);
      if (writeReply(res, reply, spec.jsonContentType(req))) spec.traffic.countResponse(reply.status);
    })();
  };
}

function scriptedFailure(plan: FailurePlan, spec: ReceiverSpec): Reply {
  const own = plan.body === undefined ? spec.failureBody(plan.status) : undefined;
  const headers: Record<string, string | string[]> = { ...own?.headers, ...plan.headers };
  if (plan.retryAfter !== undefined) headers['retry-after'] = retryAfterHeader(plan.retryAfter);
  if (own) return { status: plan.status, headers, json: own.json, text: own.text };
  if (typeof plan.body === 'string') return { status: plan.status, headers, text: plan.body };
  return { status: plan.status, headers, json: plan.body };
}
