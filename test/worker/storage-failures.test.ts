import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReplayable } from '../../ledger/dead-letter.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { startWorker, type WorkerHandle } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
let worker: WorkerHandle;
beforeAll(async () => {
  fx = await createLedgerFixture('storage-failures');
  worker = await startWorker(
    fx.workerConfig({ AUDIT_MAX_DELIVERIES: '3', AUDIT_RETRY_BASE_MS: '10', AUDIT_RETRY_MAX_MS: '50' }),
  );
});
afterAll(async () => {
  await worker.stop();
  await fx.close();
});

describe('Postgres refusing a batch', () => {
  it('isolates a permanently failing event by splitting the batch, and stores the rest', async () => {
    // a constraint Postgres enforces but the contract does not know about
    await fx.db.pool.query(
      "ALTER TABLE audit_events ADD CONSTRAINT no_evil CHECK (evaluation_status <> 'evil')",
    );
    const events = realisticEvents(40, { seed: 4 });
    events[17] = { ...events[17]!, evaluation_status: 'evil' };
    const ids: string[] = [];
    for (const e of events) ids.push(await fx.xadd(e));
    const dead = await waitFor('dead letter', async () =>
      (await fx.dlqEntries()).find((d) => d.fields.src_stream_id === ids[17]),
    );
    expect(dead.fields.reason).toMatch(/^pg_permanent_error:23514 .*no_evil/);
    expect(isReplayable(dead.fields.reason!)).toBe(true);
    await waitFor('the others stored', async () => (await fx.storedCount()) === 39);
    await fx.db.pool.query('ALTER TABLE audit_events DROP CONSTRAINT no_evil');
  });

  it('retries transient errors and dead-letters as replayable after AUDIT_MAX_DELIVERIES attempts', async () => {
    // every attempt times out waiting for a lock the test holds
    await fx.db.pool.query(
      `ALTER DATABASE ${new URL(fx.db.url).pathname.slice(1)} SET lock_timeout = '100ms'`,
    );
    await worker.stop();
    worker = await startWorker(
      fx.workerConfig({ AUDIT_MAX_DELIVERIES: '3', AUDIT_RETRY_BASE_MS: '10', AUDIT_RETRY_MAX_MS: '50' }),
    );
    const locker = await fx.db.pool.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_chain_heads IN ACCESS EXCLUSIVE MODE');
    const retriesBefore = Number((await worker.metrics.retries.get()).values[0]?.value ?? 0);
    const event = realisticEvents(1, { seed: 5 })[0]!;
    const streamId = await fx.xadd(event);
    const dead = await waitFor('dead letter', async () =>
      (await fx.dlqEntries()).find((d) => d.fields.src_stream_id === streamId),
    );
    await locker.query('ROLLBACK');
    locker.release();
    expect(dead.fields.reason).toMatch(/^transient_exceeded_max_deliveries:55P03 /);
    expect(isReplayable(dead.fields.reason!)).toBe(true);
    expect(Number((await worker.metrics.retries.get()).values[0]?.value)).toBeGreaterThanOrEqual(
      retriesBefore + 2,
    );

    // the worker is healthy again once the lock is gone
    const next = realisticEvents(1, { seed: 6 })[0]!;
    await fx.xadd(next);
    await waitFor('stored after the lock went', async () => {
      const { rowCount } = await fx.db.pool.query('SELECT 1 FROM audit_events WHERE id = $1', [next.id]);
      return rowCount === 1;
    });
  });
});
