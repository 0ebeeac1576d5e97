// Classifies one stream message before storage: too large, missing data, bad signature, bad JSON or
// schema, or a prepared event. Pure, so every dead-letter reason is unit-testable.

import { DeadLetterReason } from '../ledger/dead-letter.ts';
import { type PreparedRow, preparedRow, prepareEvent } from '../ledger/prepare-event.ts';
import type { HmacKey } from '../ledger/stream-codec.ts';
import { type StreamEntry, verifySignature } from '../ledger/stream-codec.ts';

export type Classified =
  | { kind: 'event'; entry: StreamEntry; event: PreparedRow }
  | { kind: 'dead'; entry: StreamEntry; reason: string };

export interface ClassifyOptions {
  hmacKey: HmacKey | null;
  maxMessageBytes: number;
}

export function classifyEntry(entry: StreamEntry, opts: ClassifyOptions): Classified {
  const c = classifyMessage(entry.size, entry.fields.get('data'), entry.fields.get('sig'), opts);
  return c.kind === 'event'
    ? { kind: 'event', entry, event: c.event }
    : { kind: 'dead', entry, reason: c.reason };
}

/** What classification says of one message, without the message itself. */
export type Classification = { kind: 'event'; event: PreparedRow } | { kind: 'dead'; reason: string };

/** Classifies one message from its total size and its `data` and `sig` fields (undefined when absent). */
export function classifyMessage(
  size: number,
  data: Buffer | undefined,
  sig: Buffer | undefined,
  opts: ClassifyOptions,
): Classification {
  if (size > opts.maxMessageBytes) {
    return { kind: 'dead', reason: DeadLetterReason.tooLarge(size, opts.maxMessageBytes) };
  }
  if (data === undefined) return { kind: 'dead', reason: DeadLetterReason.missingData };
  if (opts.hmacKey !== null && !verifySignature(opts.hmacKey, data, sig)) {
    return { kind: 'dead', reason: DeadLetterReason.hmacFailed };
  }
  // only a verified signature is evidence worth storing
  const signature = opts.hmacKey !== null && sig !== undefined ? sig.toString('latin1').toLowerCase() : null;
  const prepared = prepareEvent(data.toString('utf8'), signature);
  if (!prepared.ok) return { kind: 'dead', reason: DeadLetterReason.jsonParseError(prepared.error) };
  return { kind: 'event', event: preparedRow(prepared.event) };
}
