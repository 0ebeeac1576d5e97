// Stand-in Standard Webhooks endpoint: verifies v1 signatures, deduplicates by webhook-id, answers with a
// configurable status (2xx, 410, 3xx, 408/429/5xx + Retry-After) and records attempts and deliveries.

import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BoundedLog } from './bounded-log.ts';
import { CredentialRegistry } from './credentials.ts';
import { FaultSwitches } from './faults.ts';
import { type LoopbackServer, listenLoopback } from './http-server.ts';
import { receiverRequestListener } from './receiver-pipeline.ts';
import { RecentIds } from './recent-ids.ts';
import { type Reply, type RetryAfter, retryAfterHeader } from './reply.ts';
import type { ReceivedBody } from './request-body.ts';
import {
  DEFAULT_TOLERANCE_SECONDS,
  decodeWebhookSecret,
  standardWebhookHeaders,
  verifyStandardWebhook,
  WEBHOOK_SECRET_PREFIX,
} from './standard-webhooks.ts';
import { StateWatch } from './state-watch.ts';
import { TrafficCounters } from './traffic.ts';
import { rejectionReply, type WebhookRejectionCode, WebhookRejections } from './webhook-rejections.ts';

export const DEFAULT_WEBHOOK_MAX_CONTENT_LENGTH = 1024 * 1024;
export const DEFAULT_STORED_DELIVERIES = 1_000;
const DEFAULT_WAIT_MS = 5_000;

/** How the endpoint answers a verified delivery. */
export interface WebhookResponse {
  /** 2xx accepts; 410 asks the sender to disable the endpoint; 3xx must not be followed; 408/429/5xx ask for a retry. */
  status: number;
  retryAfter?: RetryAfter;
  /** Location header, for 3xx answers. */
  location?: string;
  /** JSON body (a string is sent as text). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface WebhookReceiverOptions {
  /** `whsec_` + base64 of 24–64 random bytes. Default: a fresh random secret. */
  secret?: string;
  /** Allowed clock difference in seconds, either way (reference library: 300). */
  toleranceSeconds?: number;
  /** Refuse unsigned or badly signed messages (default true); when false they are accepted with verified: false. */
  requireSignature?: boolean;
  /** Default answer for verified deliveries. Default 204 with no body. */
  response?: WebhookResponse;
  maxContentLength?: number;
  maxStoredDeliveries?: number;
  /** How many accepted webhook-ids are remembered for deduplication. */
  dedupWindow?: number;
  port?: number;
}

export interface WebhookDelivery {
  id: string;
  /** webhook-timestamp, Unix seconds. */
  timestamp: number;
  receivedAt: Date;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  verified: boolean;
  /** The attempt (1-based `seq` in attempts()) that carried it. */
  attempt: number;
}

export interface WebhookAttempt {
  seq: number;
  receivedAt: Date;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  id: string | undefined;
  status: number;
  /** Why it was refused, if it was. */
  rejection: WebhookRejectionCode | undefined;
  verified: boolean;
  /** Accepted again after an earlier 2xx for the same webhook-id. */
  duplicate: boolean;
}

export class WebhookFaults extends FaultSwitches {
  readonly #secrets: CredentialRegistry<true>;
  readonly #initialSecret: string;

  constructor(
    server: LoopbackServer,
    secrets: CredentialRegistry<true>,
    initialSecret: string,
    restore: () => void,
  ) {
    super(server, secrets);
    this.#secrets = secrets;
    this.#initialSecret = initialSecret;
    this.onReset(restore);
  }

  /** The start-up secret stops verifying; `next` (a `whsec_` secret) verifies instead. */
  rotateSecret(next: string): void {
    decodeWebhookSecret(next);
    this.#secrets.rotate(this.#initialSecret, next);
  }
}

export interface WebhookReceiver {
  readonly url: string;
  readonly secret: string;
  readonly faults: WebhookFaults;
  readonly traffic: TrafficCounters;
  /** First accepted delivery of each webhook-id, oldest first. */
  deliveries(): WebhookDelivery[];
  /** Later accepted deliveries of an id already delivered. */
  duplicates(): WebhookDelivery[];
  /** Every request, refused or not. */
  attempts(): WebhookAttempt[];
  readonly deliveredCount: number;
  readonly droppedCount: number;
  /** How verified deliveries are answered from now on; undefined restores the start-up answer. */
  respondWith(response: WebhookResponse | undefined): void;
  /** Headers that sign `body` with the receiver's current secret (for tests and the demo). */
  sign(id: string, body: string | Buffer, timestampSeconds?: number): Record<string, string>;
  /** Resolves once `n` distinct deliveries were accepted in total. */
  waitForDeliveries(n: number, timeoutMs?: number): Promise<WebhookDelivery[]>;
  clear(): void;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const secret = opts.secret ?? `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
  decodeWebhookSecret(secret);
  const secrets = new CredentialRegistry<true>([[secret, true]]);
  const toleranceSeconds = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const requireSignature = opts.requireSignature ?? true;
  const maxContentLength = opts.maxContentLength ?? DEFAULT_WEBHOOK_MAX_CONTENT_LENGTH;
  const initialResponse: WebhookResponse = opts.response ?? { status: 204 };
  let response = initialResponse;
  const capacity = opts.maxStoredDeliveries ?? DEFAULT_STORED_DELIVERIES;
  const delivered = new BoundedLog<WebhookDelivery>(capacity);
  const duplicates = new BoundedLog<WebhookDelivery>(capacity);
  const attempts = new BoundedLog<WebhookAttempt>(capacity);
  const seenIds = new RecentIds(opts.dedupWindow);
  const traffic = new TrafficCounters();
  const watch = new StateWatch();
  let attemptSeq = 0;

  // The listener is bound below; no request can arrive before this function yields again.
  const server = await listenLoopback((req, res) => listener(req, res), opts.port ?? 0);
  const faults = new WebhookFaults(server, secrets, secret, () => {
    response = initialResponse;
  });
  const listener = receiverRequestListener({
    faults,
    traffic,
    maxContentLength: () => maxContentLength,
    jsonContentType: () => 'application/json',
    isDelivery: () => true,
    failureBody: () => ({}),
    handle,
  });

  function handle(req: IncomingMessage, url: URL, body: ReceivedBody): Reply {
    attemptSeq += 1;
    const attempt: WebhookAttempt = {
      seq: attemptSeq,
      receivedAt: new Date(),
      method: req.method ?? '',
      path: url.pathname,
      headers: { ...req.headers },
      id: single(req.headers['webhook-id']),
      status: 0,
      rejection: undefined,
      verified: false,
      duplicate: false,
    };
    const reply = answer(req, url, body, attempt);
    attempt.status = reply.status;
    attempts.append(attempt);
    return reply;
  }

  function answer(req: IncomingMessage, url: URL, body: ReceivedBody, attempt: WebhookAttempt): Reply {
    const refuse = (
      rejection: (typeof WebhookRejections)[keyof typeof WebhookRejections],
      message: string,
    ): Reply => {
      attempt.rejection = rejection.code;
      return rejectionReply(rejection, message);
    };
    if (req.method !== 'POST')
      return refuse(WebhookRejections.methodNotAllowed, 'webhooks are delivered with POST');
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return refuse(
        WebhookRejections.unsupportedMediaType,
        `expected application/json, got ${req.headers['content-type']}`,
      );
    }
    if (body.kind === 'too-large') {
      return refuse(WebhookRejections.payloadTooLarge, `body over ${maxContentLength} bytes`);
    }
    const verification = verifyStandardWebhook({
      headers: req.headers,
      body: body.raw,
      keys: secrets.accepted().map(([s]) => decodeWebhookSecret(s)),
      nowSeconds: Math.floor(Date.now() / 1000),
      toleranceSeconds,
    });
    if (!verification.ok && (requireSignature || verification.id === undefined)) {
      return refuse(verification.rejection, verification.message);
    }
    attempt.verified = verification.ok;
    let parsed: unknown;
    const rawBody = body.raw.toString('utf8');
    try {
      parsed = JSON.parse(rawBody);
    } catch (err) {
      return refuse(WebhookRejections.invalidJson, `body is not JSON: ${(err as Error).message}`);
    }
    const current = response;
    if (current.status >= 200 && current.status < 300) {
      const id = verification.id as string;
      const delivery: WebhookDelivery = {
        id,
        timestamp: verification.timestamp ?? Number.NaN,
        receivedAt: attempt.receivedAt,
        path: url.pathname,
        headers: attempt.headers,
        body: parsed,
        rawBody,
        verified: verification.ok,
        attempt: attempt.seq,
      };
      if (seenIds.has(id)) {
        attempt.duplicate = true;
        duplicates.append(delivery);
      } else {
        seenIds.remember(id);
        delivered.append(delivery);
        watch.notify();
      }
    }
    return configuredReply(current);
  }

  return {
    url: server.url,
    secret,
    faults,
    traffic,
    deliveries: () => delivered.list(),
    duplicates: () => duplicates.list(),
    attempts: () => attempts.list(),
    get deliveredCount() {
      return delivered.appended;
    },
    get droppedCount() {
      return delivered.dropped;
    },
    respondWith(next) {
      response = next ?? initialResponse;
    },
    sign(id, body, timestampSeconds = Math.floor(Date.now() / 1000)) {
      const current = secrets.accepted()[0]?.[0] ?? secret;
      return {
        'content-type': 'application/json',
        ...standardWebhookHeaders(current, id, timestampSeconds, body),
      };
    },
    waitForDeliveries: (n, timeoutMs = DEFAULT_WAIT_MS) =>
      watch.until(
        () => delivered.appended >= n,
        () => delivered.list(),
        timeoutMs,
        () => `waiting for ${n} webhook deliveries, ${delivered.appended} accepted`,
      ),
    clear() {
      delivered.clear();
      duplicates.clear();
      attempts.clear();
      seenIds.clear();
      traffic.clear();
      attemptSeq = 0;
    },
    stop: () => server.close(),
  };
}

function configuredReply(response: WebhookResponse): Reply {
  const headers: Record<string, string> = { ...response.headers };
  if (response.retryAfter !== undefined) headers['retry-after'] = retryAfterHeader(response.retryAfter);
  if (response.location !== undefined) headers['location'] = response.location;
  if (response.body === undefined) return { status: response.status, headers };
  if (typeof response.body === 'string') return { status: response.status, headers, text: response.body };
  return { status: response.status, headers, json: response.body };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
