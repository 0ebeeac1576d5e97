// Sending a batch as requests: packing by bytes, applying per-request and per-event answers, resending
// only what follows a rejected event, halving over-size requests, stopping at the first retryable or
// sink-level failure with everything not taken marked unsent.
import { describe, expect, it } from 'vitest';
import { failure } from '../../forwarder/delivery-failure.ts';
import { packRequests } from '../../forwarder/request-packing.ts';
import {
  type ChunkAnswer,
  deliverInChunks,
  type SerializedEvent,
} from '../../forwarder/sinks/chunked-delivery.ts';

const items = (n: number, bytes = 10): SerializedEvent[] =>
  Array.from({ length: n }, (_, i) => ({ seq: i + 1, text: `e${i + 1}`, bytes }));

function scripted(...answers: ChunkAnswer[]) {
  const sent: number[][] = [];
  return {
    sent,
    send: async (chunk: SerializedEvent[]) => {
      sent.push(chunk.map((e) => e.seq));
      return answers.shift() ?? { kind: 'accepted' as const };
    },
  };
}

describe('packing requests by bytes', () => {
  it('fills each request up to the cap, counting separators and overhead', () => {
    expect(packRequests([10, 10, 10, 10], 25)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(packRequests([10, 10, 10], 25, 0, 1)).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(packRequests([10, 10], 25, 10)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('sends an event larger than the cap alone', () => {
    expect(packRequests([5, 100, 5], 20)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
});

describe('delivering in requests', () => {
  it('sends everything in as few requests as the cap allows', async () => {
    const s = scripted();
    const r = await deliverInChunks(items(5), { maxBytes: 30 }, s.send);
    expect(s.sent).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(r).toMatchObject({ accepted: [1, 2, 3, 4, 5], refused: [], requests: 2 });
    expect(r.unsent).toBeUndefined();
  });

  it('dead-letters the event a partial rejection names and resends only what follows it', async () => {
    const bad = failure('data', 'hec_6', 'Invalid data format');
    const s = scripted({ kind: 'rejected-at', index: 1, failure: bad });
    const r = await deliverInChunks(items(4), { maxBytes: 1000 }, s.send);
    expect(s.sent).toEqual([
      [1, 2, 3, 4],
      [3, 4],
    ]);
    expect(r.accepted).toEqual([1, 3, 4]);
    expect(r.refused).toEqual([{ seq: 2, failure: bad }]);
  });

  it('keeps per-event outcomes apart: taken, refused, to send again', async () => {
    const s = scripted({
      kind: 'per-event',
      outcomes: [null, failure('throttled', 'es_x', 'busy'), failure('data', 'es_y', 'bad'), null],
    });
    const r = await deliverInChunks(items(4), { maxBytes: 1000 }, s.send);
    expect(r.accepted).toEqual([1, 4]);
    expect(r.refused.map((x) => x.seq)).toEqual([3]);
    expect(r.unsent).toMatchObject({ seqs: [2], failure: { kind: 'throttled' } });
  });

  it('halves a request the sink found too large, and dead-letters a single over-size event', async () => {
    const s = scripted({ kind: 'too-large' }, { kind: 'accepted' }, { kind: 'too-large' });
    const r = await deliverInChunks(items(3), { maxBytes: 1000 }, s.send);
    expect(s.sent).toEqual([[1, 2, 3], [1, 2], [3]]);
    expect(r.accepted).toEqual([1, 2]);
    expect(r.refused).toMatchObject([{ seq: 3, failure: { kind: 'data', code: 'event_too_large' } }]);
  });

  it('stops at a retryable failure and marks every event not taken as unsent', async () => {
    const s = scripted(
      { kind: 'accepted' },
      { kind: 'failed', failure: failure('transient', 'http_503', 'busy') },
    );
    const r = await deliverInChunks(items(6), { maxBytes: 20 }, s.send);
    expect(s.sent).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(r.accepted).toEqual([1, 2]);
    expect(r.unsent).toMatchObject({ seqs: [3, 4, 5, 6], failure: { kind: 'transient' } });
  });

  it('stops at a sink-level refusal the same way', async () => {
    const s = scripted({ kind: 'failed', failure: failure('auth', 'hec_4', 'Invalid token') });
    const r = await deliverInChunks(items(2), { maxBytes: 1000 }, s.send);
    expect(r.unsent).toMatchObject({ seqs: [1, 2], failure: { kind: 'auth' } });
  });

  it('dead-letters a whole request refused as bad data and carries on with the next', async () => {
    const s = scripted({ kind: 'failed', failure: failure('data', 'http_400', 'bad') });
    const r = await deliverInChunks(items(4), { maxBytes: 20 }, s.send);
    expect(r.refused.map((x) => x.seq)).toEqual([1, 2]);
    expect(r.accepted).toEqual([3, 4]);
  });

  it('treats a thrown network error as a retryable failure', async () => {
    const r = await deliverInChunks(items(2), { maxBytes: 1000 }, async () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    });
    expect(r.unsent).toMatchObject({ seqs: [1, 2], failure: { kind: 'transient', code: 'ECONNRESET' } });
  });
});
