// The reconcile work queue: per-key de-duplication, one worker per key, coalescing of bursts, bounded
// concurrency and exponential requeue with a cap.
import { describe, expect, it } from 'vitest';
import { WorkQueue, type WorkQueueOptions } from '../../operator/work-queue.ts';

function queue(overrides: Partial<WorkQueueOptions> = {}): WorkQueue {
  return new WorkQueue({ concurrency: 2, coalesceMs: 0, requeueBaseMs: 10, requeueMaxMs: 80, ...overrides });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('work queue', () => {
  it('processes a key added many times before it runs once', async () => {
    const q = queue();
    const seen: string[] = [];
    for (let i = 0; i < 100; i++) q.add('a');
    q.add('b');
    q.start(async (key) => {
      seen.push(key);
    });
    await q.idle();
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and runs it again when it changed meanwhile', async () => {
    const q = queue({ concurrency: 4 });
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    q.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      if (runs === 1) await gate.promise;
      running--;
    });
    q.add('a');
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) q.add('a');
    gate.resolve();
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('keeps at most `concurrency` keys in flight', async () => {
    const q = queue({ concurrency: 3 });
    let running = 0;
    let maxRunning = 0;
    q.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.idle();
    expect(maxRunning).toBe(3);
  });

  it('turns a burst of 1,000 changes to one key into a handful of runs', async () => {
    const q = queue({ coalesceMs: 20 });
    let runs = 0;
    q.start(async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 2));
    });
    const end = Date.now() + 300;
    let adds = 0;
    while (Date.now() < end) {
      q.add('policy');
      adds++;
      if (adds % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await q.idle();
    expect(adds).toBeGreaterThanOrEqual(1000);
    // a change every millisecond never leaves 20 ms of quiet: it runs every 20 x 20 ms, then once after
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(3);
  });

  it('waits for a quiet moment before running a changed key', async () => {
    const q = queue({ coalesceMs: 30 });
    const starts: number[] = [];
    q.start(async () => {
      starts.push(Date.now());
    });
    const first = Date.now();
    q.add('a');
    await new Promise((r) => setTimeout(r, 20));
    q.add('a');
    await q.idle();
    expect(starts).toHaveLength(1);
    expect(starts[0]! - first).toBeGreaterThanOrEqual(45);
  });

  it('waits longer after each consecutive failure, up to the cap, and starts over after a success', () => {
    const q = queue({ requeueBaseMs: 10, requeueMaxMs: 80 });
    expect([1, 2, 3, 4, 5, 6].map(() => q.retry('a'))).toEqual([10, 20, 40, 80, 80, 80]);
    q.forget('a');
    expect(q.retry('a')).toBe(10);
    q.stop();
  });

  it('runs a failed key again after its back-off', async () => {
    const q = queue({ requeueBaseMs: 20 });
    const starts: number[] = [];
    q.start(async (key) => {
      starts.push(Date.now());
      if (starts.length < 3) q.retry(key);
      else q.forget(key);
    });
    q.add('a');
    while (starts.length < 3) await q.idle();
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(18);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(38);
  });

  it('forgets a removed key', async () => {
    const q = queue();
    q.retry('gone');
    q.remove('gone');
    expect(q.depth).toBe(0);
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
    });
    await q.idle();
    expect(seen).toEqual([]);
  });
});
