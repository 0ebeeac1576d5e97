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
  if (entry.size > opts.maxMessageBytes) {
    return { kind: 'dead', entry, reason: DeadLetterReason.tooLarge(entry.size, opts.maxMessageBytes) };
  }
  const data = entry.fields.get('data');
  if (data === undefined) return { kind: 'dead', entry, reason: DeadLetterReason.missingData };
  const sig = entry.fields.get('sig');
  if (opts.hmacKey !== null && !verifySignature(opts.hmacKey, data, sig)) {
    return { kind: 'dead', entry, reason: DeadLetterReason.hmacFailed };
  }
  // only a verified signature is evidence worth storing
  const signature = opts.hmacKey !== null && sig !== undefined ? sig.toString('latin1').toLowerCase() : null;
  const prepared = prepareEvent(data.toString('utf8'), signature);
  if (!prepared.ok) return { kind: 'dead', entry, reason: DeadLetterReason.jsonParseError(prepared.error) };
  return { kind: 'event', entry, event: preparedRow(prepared.event) };
}
