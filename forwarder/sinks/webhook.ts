// The webhook sink: one signed JSON POST per request (Standard Webhooks), custom headers, and the batch's
// range and digest in headers and body. Redirects are answers, never followed.
import type { ForwarderSinkEntry } from '../../ledger/sinks/sinks-file.ts';
import { sinkFormat } from '../../ledger/sinks/spec.ts';
import type { DeliveryFailure } from '../delivery-failure.ts';
import { type EventFormatter, formatterFor } from '../formats/event-format.ts';
import { deliverInChunks, type SerializedEvent } from './chunked-delivery.ts';
import { endpointTls } from './endpoint-tls.ts';
import { HttpEndpoint } from './http-endpoint.ts';
import { localFailure, type OutgoingBatch, type ReadSecret, type SendReport, type Sink } from './sink.ts';
import {
  batchHeaders,
  classifyWebhookAnswer,
  WEBHOOK_ENVELOPE_BYTES,
  webhookBody,
  webhookId,
  webhookSignature,
  webhookSigningKey,
} from './webhook-payload.ts';

export class WebhookSink implements Sink {
  readonly name: string;
  readonly type = 'webhook' as const;
  readonly format;
  readonly #entry: ForwarderSinkEntry;
  readonly #hook: NonNullable<ForwarderSinkEntry['spec']['webhook']>;
  readonly #readSecret: ReadSecret;
  readonly #format: EventFormatter;
  #endpoint: HttpEndpoint | undefined;

  constructor(entry: ForwarderSinkEntry, readSecret: ReadSecret) {
    const hook = entry.spec.webhook;
    if (!hook) throw new Error(`sink ${entry.name}: the webhook block is missing`);
    this.name = entry.name;
    this.#entry = entry;
    this.#hook = hook;
    this.#readSecret = readSecret;
    this.format = sinkFormat(entry.spec);
    this.#format = formatterFor(this.format);
  }

  async send(batch: OutgoingBatch): Promise<SendReport> {
    let endpoint: HttpEndpoint;
    let key: Buffer;
    let headers: Record<string, string>;
    try {
      endpoint = this.#endpointNow();
      key = webhookSigningKey(this.#readSecret(this.#hook.signingSecret));
      headers = { ...this.#hook.headers, ...batchHeaders(batch.meta), 'content-type': 'application/json' };
      for (const [name, ref] of Object.entries(this.#hook.secretHeaders))
        headers[name] = this.#readSecret(ref);
    } catch (err) {
      return localFailure(batch, err);
    }
    const serialized: SerializedEvent[] = batch.events.map((e) => {
      const text = JSON.stringify(this.#format(e));
      return { seq: e.ledger_seq, text, bytes: Buffer.byteLength(text) };
    });
    const rules = {
      maxBytes: this.#entry.spec.batch.bytes,
      overheadBytes: WEBHOOK_ENVELOPE_BYTES,
      separatorBytes: 1,
    };
    return deliverInChunks(serialized, rules, async (chunk) => {
      const body = webhookBody(
        batch.meta,
        chunk.map((e) => e.text),
      );
      const id = webhookId(
        batch.meta.sink,
        chunk.map((e) => e.seq),
      );
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await endpoint.send(
        'POST',
        endpoint.target,
        {
          ...headers,
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(key, id, timestamp, body),
        },
        body,
      );
      return classifyWebhookAnswer(res.status, res.text, res.headers['retry-after'], Date.now());
    });
  }

  /** Every POST to a webhook is a delivery, so there is nothing safe to probe at start. */
  async check(): Promise<DeliveryFailure | null> {
    return null;
  }

  async close(): Promise<void> {
    await this.#endpoint?.close();
  }

  #endpointNow(): HttpEndpoint {
    this.#endpoint ??= new HttpEndpoint(this.#hook.endpoint, {
      connections: this.#entry.spec.concurrency + 1,
      timeoutMs: this.#entry.spec.timeoutMs,
      tls: endpointTls(this.#entry.spec.tls, this.#readSecret),
    });
    return this.#endpoint;
  }
}
