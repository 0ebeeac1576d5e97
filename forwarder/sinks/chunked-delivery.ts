// Sending a batch as one or more requests (shared by every sink): serialized events are packed by bytes,
// each request's answer is applied per event, a rejected event splits the rest off (only what follows is
// sent again), an over-size request is halved, and the first retryable or sink-level failure stops
// the batch with everything not yet taken marked unsent.
import { type DeliveryFailure, failure, networkFailure } from '../delivery-failure.ts';
import { packRequests } from '../request-packing.ts';
import type { SendReport } from './sink.ts';

export interface SerializedEvent {
  seq: number;
  text: string;
  bytes: number;
}

export type ChunkAnswer =
  /** Every event of the request was taken. */
  | { kind: 'accepted'; receipt?: string }
  /** Events before `index` were taken, the one at `index` refused, the ones after it not looked at. */
  | { kind: 'rejected-at'; index: number; failure: DeliveryFailure; receipt?: string }
  /** One outcome per event: null taken, a data failure refused, a retryable failure to send again. */
  | { kind: 'per-event'; outcomes: (DeliveryFailure | null)[]; receipt?: string }
  | { kind: 'too-large' }
  | { kind: 'failed'; failure: DeliveryFailure };

export interface PackingRules {
  maxBytes: number;
  overheadBytes?: number;
  separatorBytes?: number;
}

export async function deliverInChunks(
  events: SerializedEvent[],
  rules: PackingRules,
  sendChunk: (chunk: SerializedEvent[]) => Promise<ChunkAnswer>,
): Promise<SendReport> {
  const report: SendReport = {
    accepted: [],
    refused: [],
    receipts: [],
    requests: 0,
    bytes: events.reduce((n, e) => n + e.bytes, 0),
  };
  const ranges = packRequests(
    events.map((e) => e.bytes),
    rules.maxBytes,
    rules.overheadBytes ?? 0,
    rules.separatorBytes ?? 0,
  );
  const queue = ranges.map(([start, end]) => events.slice(start, end));
  const again: number[] = [];
  let againFailure: DeliveryFailure | undefined;

  while (queue.length > 0) {
    const chunk = queue.shift()!;
    let answer: ChunkAnswer;
    try {
      answer = await sendChunk(chunk);
    } catch (err) {
      answer = { kind: 'failed', failure: networkFailure(err) };
    }
    report.requests += 1;
    if ('receipt' in answer && answer.receipt) report.receipts.push(answer.receipt);
    switch (answer.kind) {
      case 'accepted':
        for (const e of chunk) report.accepted.push(e.seq);
        break;
      case 'rejected-at': {
        const at = Math.min(Math.max(answer.index, 0), chunk.length - 1);
        for (const e of chunk.slice(0, at)) report.accepted.push(e.seq);
        report.refused.push({ seq: chunk[at]!.seq, failure: answer.failure });
        const rest = chunk.slice(at + 1);
        if (rest.length > 0) queue.unshift(rest);
        break;
      }
      case 'per-event':
        chunk.forEach((e, i) => {
          const outcome = answer.outcomes[i];
          if (outcome === null) report.accepted.push(e.seq);
          else if (outcome === undefined || outcome.kind === 'transient' || outcome.kind === 'throttled') {
            again.push(e.seq);
            againFailure ??=
              outcome ?? failure('transient', 'missing_item', 'the answer had no item for this event');
          } else report.refused.push({ seq: e.seq, failure: outcome });
        });
        break;
      case 'too-large':
        if (chunk.length === 1) {
          report.refused.push({
            seq: chunk[0]!.seq,
            failure: failure(
              'data',
              'event_too_large',
              `the sink refused a ${chunk[0]!.bytes}-byte event as too large`,
            ),
          });
        } else {
          const half = Math.ceil(chunk.length / 2);
          queue.unshift(chunk.slice(0, half), chunk.slice(half));
        }
        break;
      case 'failed':
        if (answer.failure.kind === 'data') {
          for (const e of chunk) report.refused.push({ seq: e.seq, failure: answer.failure });
          break;
        }
        report.unsent = {
          seqs: [...again, ...chunk.map((e) => e.seq), ...queue.flat().map((e) => e.seq)].sort(
            (a, b) => a - b,
          ),
          failure: answer.failure,
        };
        return report;
    }
  }
  if (again.length > 0) report.unsent = { seqs: again, failure: againFailure! };
  return report;
}
