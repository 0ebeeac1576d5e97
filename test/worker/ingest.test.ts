import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { startWorker, type WorkerHandle } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
let worker: WorkerHandle;

beforeAll(async () => {
  fx = await createLedgerFixture('ingest');
  worker = await startWorker(fx.workerConfig({ AUDIT_BATCH_SIZE: '200' }));
});
afterAll(async () => {
  await worker.stop();
  await fx.close();
});

describe('ingestion worker', () => {
  it('stores signed realistic events once each, in valid per-zone chains', async () => {
    const events = realisticEvents(1500, { seed: 1 });
    for (const e of events) await fx.xadd(e);
    await waitFor('all events stored', async () => (await fx.storedCount()) === events.length);
    const report = await verifyLedger(fx.db.pool, { key: fx.key });
    expect(report.faults).toEqual([]);
    expect(report.checked).toBe(events.length);
    const { rows } = await fx.db.pool.query<{ n: number; max: number }>(
      'SELECT count(DISTINCT ledger_seq)::int AS n, max(ledger_seq)::int AS max FROM audit_events',
    );
    expect(rows[0]).toEqual({ n: events.length, max: events.length });
  });

  it('acknowledges what it stored and leaves nothing pending', async () => {
    await waitFor('no pending messages', async () => (await worker.refreshStats()).pending === 0);
    const stats = await worker.refreshStats();
    expect(stats.dlqSize).toBe(0);
  });
});
