// Bounded work in flight: while a sink is slow, the dispatcher stops enqueuing at the queue bound, so
// Redis holds at most that many jobs per sink however large the backlog in Postgres grows; finished
// jobs are kept only up to their own bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type SplunkHecReceiver, startSplunkHec } from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  type ForwarderFixture,
  hecSeqs,
  hecSinkEntry,
} from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let hec: SplunkHecReceiver;
let forwarder: ForwarderHandle;
const BOUND = 3;
const KEEP = 5;

beforeAll(async () => {
  fx = await createForwarderFixture('backpressure');
  hec = await startSplunkHec();
  forwarder = await fx.start(
    [hecSinkEntry(fx, hec, 'splunk', { spec: { batch: { events: 10, waitMs: 0 }, concurrency: 2 } })],
    {
      LEDGERHUB_FORWARDER_MAX_QUEUED_BATCHES: String(BOUND),
      LEDGERHUB_FORWARDER_KEEP_JOBS: String(KEEP),
    },
  );
});
afterAll(async () => {
  await forwarder.stop();
  await fx.close();
  await hec.stop();
});

describe('backpressure', () => {
  it('never holds more than the bound of batches in Postgres or jobs in Redis', async () => {
    hec.faults.slow(50);
    const range = await fx.commit(realisticEvents(300, { seed: 81 }), 100);
    const queue = forwarder.runners.get('splunk')!.queue;
    let sawBackpressure = false;
    await waitFor(
      'backlog drained under the bound',
      async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const inRedis = Object.values(counts).reduce((a, b) => a + b, 0);
        const h = await fx.health('splunk');
        const { rows } = await fx.ledger.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM forwarder_batches WHERE sink = 'splunk' AND state = 'pending'",
        );
        expect(rows[0]!.n).toBeLessThanOrEqual(BOUND);
        expect(inRedis).toBeLessThanOrEqual(BOUND);
        if (h.enqueuedThrough < range.last && rows[0]!.n === BOUND) sawBackpressure = true;
        return h.deliveredThrough === range.last;
      },
      60_000,
      20,
    );
    expect(sawBackpressure).toBe(true);
    expect(new Set(hecSeqs(hec)).size).toBe(300);
    const { completed } = await queue.getJobCounts('completed');
    expect(completed).toBeLessThanOrEqual(KEEP);
    const text = await forwarder.metrics.registry.metrics();
    expect(text).toMatch(/ledgerhub_forwarder_backpressure_total\{sink="splunk"\} [1-9]/);
  });
});
