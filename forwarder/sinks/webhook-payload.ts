// Standard Webhooks wire format (pure): one JSON body per request carrying the batch's range, count and
// digest with its events; a webhook-id stable across retries of the same events; `v1,` + base64
// HMAC-SHA256 over `${id}.${timestamp}.${body}` keyed with the base64-decoded `whsec_` secret.
import { createHmac } from 'node:crypto';
import type { BatchMeta } from '../batch-digest.ts';
import { type DeliveryFailure, failure, httpStatusFailure, parseRetryAfter } from '../delivery-failure.ts';
import type { ChunkAnswer } from './chunked-delivery.ts';

export const WEBHOOK_BATCH_TYPE = 'ledgerhub.audit.batch';
const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** The HMAC key of a `whsec_…` secret; throws when it is not base64 of 24–64 bytes. */
export function webhookSigningKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new Error('webhook signing secret must be "whsec_" followed by standard base64');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new Error(
      `webhook signing secret must decode to ${MIN_KEY_BYTES}–${MAX_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

export function webhookSignature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64')}`;
}

/**
 * `lh_<sink>_<first>_<last>_<count>` over the events of this request: the same events get the same id
 * on every retry (receivers deduplicate on it); ids never contain '.' (the spec reserves it).
 */
export function webhookId(sink: string, seqs: readonly number[]): string {
  return `lh_${sink.replaceAll('.', '_')}_${seqs[0] ?? 0}_${seqs.at(-1) ?? 0}_${seqs.length}`;
}

/** Bytes a body adds around its events (the envelope), for packing requests. */
export const WEBHOOK_ENVELOPE_BYTES = 512;

export function webhookBody(meta: BatchMeta, eventTexts: readonly string[]): string {
  return `{"type":"${WEBHOOK_BATCH_TYPE}","sink":${JSON.stringify(meta.sink)},"first_seq":${meta.firstSeq},"last_seq":${meta.lastSeq},"count":${meta.count},"sha256":"${meta.sha256}","events":[${eventTexts.join(',')}]}`;
}

/** Headers that let a receiver reconcile without parsing the body. */
export function batchHeaders(meta: BatchMeta): Record<string, string> {
  return {
    'ledgerhub-batch-first-seq': String(meta.firstSeq),
    'ledgerhub-batch-last-seq': String(meta.lastSeq),
    'ledgerhub-batch-count': String(meta.count),
    'ledgerhub-batch-sha256': meta.sha256,
  };
}

/** 2xx delivered; 410 disables the sink; 408/429/5xx retried (Retry-After honoured); 3xx never followed. */
export function classifyWebhookAnswer(
  status: number,
  bodyText: string,
  retryAfterHeader: string | string[] | undefined,
  nowMs: number,
): ChunkAnswer {
  if (status >= 200 && status < 300) return { kind: 'accepted', receipt: `webhook ${status}` };
  if (status === 413) return { kind: 'too-large' };
  const message = bodyText.slice(0, 200) || `HTTP ${status}`;
  const f: DeliveryFailure = httpStatusFailure(status, message, parseRetryAfter(retryAfterHeader, nowMs));
  return {
    kind: 'failed',
    failure:
      status === 410 ? failure('gone', f.code, `endpoint answered 410 Gone: ${message}`, { status }) : f,
  };
}
