// Cutting the ledger into batches, and the cursor rule: contiguous ranges bounded by events and bytes,
// partial tails held back while delivery slots are busy, ranges with no matching event skipped, and a
// cursor that only ever stops before the first pending batch.
import { describe, expect, it } from 'vitest';
import { type CommitSpan, coveredBounds, type PlanInput, planBatches } from '../../forwarder/batch-plan.ts';
import { advanceCursor } from '../../forwarder/cursor.ts';

const commit = (first: number, last: number, committedAtMs = 0): CommitSpan => ({
  first,
  last,
  minUs: first * 1000,
  maxUs: last * 1000,
  committedAtMs,
});

function input(over: Partial<PlanInput>): PlanInput {
  return {
    after: 0,
    commits: [commit(1, 10)],
    events: [],
    limits: { events: 3, bytes: 1_000_000 },
    maxBatches: 100,
    reachedHead: true,
    slotFree: true,
    nowMs: 0,
    waitMs: 1000,
    ...over,
  };
}

const ev = (...seqs: number[]) => seqs.map((seq) => ({ seq, bytes: 100 }));

describe('planning batches', () => {
  it('cuts contiguous ranges of at most N matching events, the last one reaching the head', () => {
    const plan = planBatches(input({ events: ev(1, 2, 3, 4, 5, 6, 7) }));
    expect(plan.batches.map((b) => [b.first, b.last, b.events])).toEqual([
      [1, 3, 3],
      [4, 6, 3],
      [7, 10, 1],
    ]);
    expect(plan.through).toBe(10);
  });

  it('spans non-matching events inside a range (a range starts after the previous one)', () => {
    const plan = planBatches(input({ events: ev(2, 5, 6, 9) }));
    expect(plan.batches.map((b) => [b.first, b.last, b.events])).toEqual([
      [1, 8, 3],
      [9, 10, 1],
    ]);
  });

  it('cuts by estimated bytes as well', () => {
    const events = [
      { seq: 1, bytes: 600 },
      { seq: 2, bytes: 600 },
      { seq: 3, bytes: 100 },
    ];
    const plan = planBatches(input({ events, limits: { events: 100, bytes: 1000 } }));
    expect(plan.batches.map((b) => [b.first, b.last, b.bytes])).toEqual([
      [1, 1, 600],
      [2, 10, 700],
    ]);
  });

  it('passes over a range where nothing matches, without a batch', () => {
    const plan = planBatches(input({ events: [] }));
    expect(plan.batches).toEqual([]);
    expect(plan.through).toBe(10);
  });

  it('holds a partial tail while every delivery slot is busy, and says when it is due', () => {
    const plan = planBatches(
      input({ events: ev(1, 2, 3, 4), slotFree: false, nowMs: 300, commits: [commit(1, 10, 0)] }),
    );
    expect(plan.batches.map((b) => [b.first, b.last])).toEqual([[1, 3]]);
    expect(plan.through).toBe(3);
    expect(plan.tailDueInMs).toBe(700);
  });

  it('sends a partial tail once it waited waitMs, even with every slot busy', () => {
    const plan = planBatches(
      input({ events: ev(4), after: 3, slotFree: false, nowMs: 1500, commits: [commit(1, 10, 0)] }),
    );
    expect(plan.batches.map((b) => [b.first, b.last])).toEqual([[4, 10]]);
    expect(plan.tailDueInMs).toBeUndefined();
  });

  it('carries a tail that does not reach the head into the next read', () => {
    const plan = planBatches(input({ events: ev(1, 2, 3, 4), reachedHead: false }));
    expect(plan.batches.map((b) => [b.first, b.last])).toEqual([[1, 3]]);
    expect(plan.through).toBe(3);
    expect(plan.tailDueInMs).toBeUndefined();
  });

  it('still makes progress when a read holds too few matching events for one batch', () => {
    const plan = planBatches(input({ events: ev(9), reachedHead: false }));
    expect(plan.batches.map((b) => [b.first, b.last])).toEqual([[1, 10]]);
  });

  it('plans no more batches than the queue has room for', () => {
    const plan = planBatches(input({ events: ev(1, 2, 3, 4, 5, 6, 7), maxBatches: 2 }));
    expect(plan.batches.map((b) => [b.first, b.last])).toEqual([
      [1, 3],
      [4, 6],
    ]);
    expect(plan.through).toBe(6);
  });

  it('starts after enqueued_through even inside a commit', () => {
    const plan = planBatches(input({ after: 5, events: ev(6, 7) }));
    expect(plan.batches.map((b) => [b.first, b.last])).toEqual([[6, 10]]);
  });

  it('gives each batch the occurred-at bounds of the commits it spans', () => {
    const plan = planBatches(input({ commits: [commit(1, 4), commit(5, 10)], events: ev(1, 2, 3, 4, 5) }));
    expect(plan.batches.map((b) => [b.minUs, b.maxUs])).toEqual([
      [1000, 4000],
      [1000, 10_000],
    ]);
  });
});

describe('occurred-at bounds of a range', () => {
  it('covers a range spanning several commits', () => {
    expect(coveredBounds([commit(1, 4), commit(5, 10)], 3, 7)).toEqual({ minUs: 1000, maxUs: 10_000 });
  });

  it('gives none when the commit log has a gap (rows pruned), so the read is bounded by seq only', () => {
    expect(coveredBounds([commit(1, 4), commit(8, 10)], 3, 9)).toBeNull();
    expect(coveredBounds([commit(5, 10)], 1, 6)).toBeNull();
    expect(coveredBounds([commit(1, 10)], 5, 4)).toBeNull();
  });
});

describe('the durable cursor', () => {
  it('stops just before the first pending batch, whatever finished after it', () => {
    expect(advanceCursor(0, 100, 41)).toBe(40);
  });

  it('reaches enqueued_through when nothing is pending', () => {
    expect(advanceCursor(40, 100, null)).toBe(100);
  });

  it('never moves backwards', () => {
    expect(advanceCursor(50, 100, 41)).toBe(50);
  });

  it('never passes enqueued_through', () => {
    expect(advanceCursor(0, 30, 41)).toBe(30);
  });
});
