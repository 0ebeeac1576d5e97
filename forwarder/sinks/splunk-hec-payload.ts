// Splunk HEC wire format and answers (pure): one event object per ledger event (time in epoch seconds
// with a millisecond fraction, host/source/sourcetype/index, flat indexed `fields` carrying the batch's
// range and digest), concatenated into a body; and the whole HEC reply-code table classified.
import type { SinkFormat } from '../../ledger/sinks/spec.ts';
import type { BatchMeta } from '../batch-digest.ts';
import { type DeliveryFailure, failure, httpStatusFailure, parseRetryAfter } from '../delivery-failure.ts';
import type { LedgerEvent } from '../ledger-event.ts';

export const HEC_EVENT_PATH = '/services/collector/event';
export const HEC_HEALTH_PATH = '/services/collector/health';
export const HEC_ACK_PATH = '/services/collector/ack';

export const HEC_DEFAULT_SOURCETYPE: Record<SinkFormat, string> = {
  caracal: 'caracal:audit',
  ecs: 'ledgerhub:ecs',
  ocsf: 'ocsf:authorization',
};

/** Codes Splunk asks clients to resend on (server error, busy, unhealthy). */
const RETRY_CODES = new Set([8, 9, 18, 19, 20]);
/** Token missing, malformed, unknown or disabled. */
const AUTH_CODES = new Set([1, 2, 3, 4, 21, 22]);
/** Our configuration is wrong: index not allowed, channel missing or invalid, ack disabled, query auth off. */
const CONFIG_CODES = new Set([7, 10, 11, 14, 16]);
/** One event of the batch is bad; the reply names it with invalid-event-number. */
const EVENT_CODES = new Set([6, 12, 13, 15]);

export interface HecEnvelope {
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
}

/** Epoch seconds with a millisecond fraction. */
export function hecTime(occurredAtUs: number): number {
  return Math.floor(occurredAtUs / 1000) / 1000;
}

/** One HEC event object as JSON text. `fields` holds only strings and numbers (HEC refuses the rest). */
export function hecEventText(
  e: LedgerEvent,
  formatted: Record<string, unknown>,
  meta: BatchMeta,
  envelope: HecEnvelope,
): string {
  const fields: Record<string, string | number> = {
    ledgerhub_seq: e.ledger_seq,
    ledgerhub_event_id: e.id,
    zone_id: e.zone_id,
    event_type: e.event_type,
    ledgerhub_batch_first_seq: meta.firstSeq,
    ledgerhub_batch_last_seq: meta.lastSeq,
    ledgerhub_batch_count: meta.count,
    ledgerhub_batch_sha256: meta.sha256,
  };
  if (e.decision) fields.decision = e.decision;
  return JSON.stringify({
    time: hecTime(e.occurred_at_us),
    host: envelope.host,
    source: envelope.source,
    sourcetype: envelope.sourcetype,
    ...(envelope.index === undefined ? {} : { index: envelope.index }),
    event: formatted,
    fields,
  });
}

export type HecAnswer =
  | { kind: 'ok'; ackId: number | undefined }
  | { kind: 'rejected-at'; index: number; failure: DeliveryFailure }
  | { kind: 'too-large' }
  | { kind: 'failed'; failure: DeliveryFailure };

interface HecReply {
  text?: unknown;
  code?: unknown;
  ackId?: unknown;
  'invalid-event-number'?: unknown;
}

/** Classifies a reply to POST /services/collector/event by HEC code, falling back to the HTTP status. */
export function classifyHecAnswer(
  status: number,
  bodyText: string,
  retryAfterHeader: string | string[] | undefined,
  nowMs: number,
): HecAnswer {
  let reply: HecReply = {};
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === 'object') reply = parsed as HecReply;
  } catch {
    // not JSON: classified by HTTP status below
  }
  const code = typeof reply.code === 'number' ? reply.code : undefined;
  const text = typeof reply.text === 'string' ? reply.text : bodyText.slice(0, 200) || `HTTP ${status}`;
  const retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs);
  const extra = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const hecCode = `hec_${code}`;

  if (status >= 200 && status < 300 && (code === undefined || code === 0)) {
    return { kind: 'ok', ackId: typeof reply.ackId === 'number' ? reply.ackId : undefined };
  }
  if (status === 413) return { kind: 'too-large' };
  if (code !== undefined && RETRY_CODES.has(code)) {
    const kind = code === 8 ? 'transient' : 'throttled';
    return { kind: 'failed', failure: failure(kind, hecCode, text, extra) };
  }
  if (code !== undefined && AUTH_CODES.has(code))
    return { kind: 'failed', failure: failure('auth', hecCode, text, extra) };
  if (code !== undefined && CONFIG_CODES.has(code)) {
    return { kind: 'failed', failure: failure('config', hecCode, text, extra) };
  }
  const bad = reply['invalid-event-number'];
  if (code !== undefined && EVENT_CODES.has(code)) {
    const f = failure('data', hecCode, text, { status });
    if (typeof bad === 'number' && Number.isInteger(bad) && bad >= 0)
      return { kind: 'rejected-at', index: bad, failure: f };
    return { kind: 'failed', failure: f };
  }
  if (code === 5) return { kind: 'failed', failure: failure('data', hecCode, text, { status }) };
  const byStatus = httpStatusFailure(status, text, retryAfterMs);
  return { kind: 'failed', failure: code === undefined ? byStatus : { ...byStatus, code: hecCode } };
}

/** `{"acks":{"0":true,"1":false}}` → the ids reported true. */
export function ackedIds(bodyText: string): number[] {
  try {
    const parsed = JSON.parse(bodyText) as { acks?: Record<string, unknown> };
    if (!parsed.acks || typeof parsed.acks !== 'object') return [];
    return Object.entries(parsed.acks)
      .filter(([, v]) => v === true)
      .map(([k]) => Number(k));
  } catch {
    return [];
  }
}
