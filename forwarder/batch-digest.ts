// What every outgoing batch says about itself, so a receiver can reconcile what it got: the ledger range,
// the number of events and a SHA-256 over them. The digest covers `<ledger_seq>:<id>:<content_sha256>\n`
// per event in ledger order: each format carries those three fields, so a receiver can recompute it.
import { createHash } from 'node:crypto';
import type { LedgerEvent } from './ledger-event.ts';

export interface BatchMeta {
  sink: string;
  /** The BullMQ job id: `<sink>-<first>-<last>` (or a replay id). */
  jobId: string;
  firstSeq: number;
  lastSeq: number;
  /** Events of the batch that matched the route (all of them, also those sent in another request). */
  count: number;
  sha256: string;
}

export function batchSha256(
  events: readonly Pick<LedgerEvent, 'ledger_seq' | 'id' | 'content_sha256'>[],
): string {
  let material = '';
  for (const e of events) material += `${e.ledger_seq}:${e.id}:${e.content_sha256}\n`;
  return createHash('sha256').update(material).digest('hex');
}

export function batchMeta(
  sink: string,
  jobId: string,
  range: { first: number; last: number },
  events: readonly LedgerEvent[],
): BatchMeta {
  return {
    sink,
    jobId,
    firstSeq: range.first,
    lastSeq: range.last,
    count: events.length,
    sha256: batchSha256(events),
  };
}
