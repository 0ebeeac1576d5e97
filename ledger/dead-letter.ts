// The dead-letter contract, as Caracal writes it: reasons, replayability and the DLQ message fields
// (reason, src_id, received_at, src_<field> copies), plus ledgerhub's src_stream_id so nothing is lost.
import type { StreamEntry } from './stream-codec.ts';

export const DeadLetterReason = {
  missingData: 'missing_data_field',
  hmacFailed: 'hmac_verify_failed',
  tamperOnReplay: 'tamper_on_replay',
  jsonParseError: (detail: string) => `json_parse_error:${clip(detail)}`,
  transientExceeded: (detail: string) => `transient_exceeded_max_deliveries:${clip(detail)}`,
  pgPermanent: (detail: string) => `pg_permanent_error:${clip(detail)}`,
  /** ledgerhub: a message over the size cap (not in Caracal, which has no cap). */
  tooLarge: (bytes: number, cap: number) => `message_too_large:${bytes} bytes exceeds ${cap}`,
} as const;

/** Reason prefixes Caracal's replay endpoint re-queues; everything else is evidence of bad input. */
export const REPLAYABLE_PREFIXES = ['transient_exceeded_max_deliveries:', 'pg_permanent_error:'] as const;

export function isReplayable(reason: string): boolean {
  return REPLAYABLE_PREFIXES.some((p) => reason.startsWith(p));
}

/** The reason's kind without its detail: `json_parse_error`, `hmac_verify_failed`, ... (a metric label). */
export function reasonKind(reason: string): string {
  const colon = reason.indexOf(':');
  return colon === -1 ? reason : reason.slice(0, colon);
}

const MAX_DETAIL = 300;

function clip(detail: string): string {
  const oneLine = detail.replace(/[\r\n\u0000]+/g, ' ');
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL)}…` : oneLine;
}

/**
 * XADD field list for a dead letter. Source fields keep their raw bytes. As in Caracal, the source's own
 * `id` field (the event id) lands in src_id; the stream id is kept as src_stream_id.
 */
export function deadLetterFields(
  entry: StreamEntry,
  reason: string,
  receivedAtMs: number,
): (string | Buffer)[] {
  const fields = new Map<string, string | Buffer>([
    ['reason', reason],
    ['src_id', entry.streamId],
    ['received_at', String(receivedAtMs)],
  ]);
  for (const [name, value] of entry.fields) fields.set(`src_${name}`, value);
  fields.set('src_stream_id', entry.streamId);
  return [...fields].flat();
}

/** A dead letter as read back from the DLQ stream. */
export interface DeadLetter {
  id: string;
  reason: string;
  receivedAt: number;
  replayable: boolean;
  sourceStreamId: string | null;
  /** The source message's fields (without the src_ prefix). */
  source: Record<string, string>;
}

export function parseDeadLetter(id: string, flat: string[]): DeadLetter {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
  const source: Record<string, string> = {};
  for (const [k, v] of fields) {
    if (k.startsWith('src_') && k !== 'src_stream_id') source[k.slice(4)] = v;
  }
  const reason = fields.get('reason') ?? '';
  return {
    id,
    reason,
    receivedAt: Number(fields.get('received_at') ?? 0),
    replayable: isReplayable(reason),
    sourceStreamId: fields.get('src_stream_id') ?? null,
    source,
  };
}
