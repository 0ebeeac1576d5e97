import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, createPool } from '../../ledger/db.ts';
import { migrate } from '../../ledger/migrate.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { startWorker, type WorkerHandle } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { ensureDatabase, type RunningService, startPostgres } from '../support/local-services.ts';
import { holdsFor, waitFor } from '../support/wait.ts';

// This test stops Postgres, so it runs its own server instead of the shared one.
let dir: string;
let server: RunningService;
let port: number;
let fx: LedgerFixture;
let worker: WorkerHandle;
let pool: ReturnType<typeof createPool>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lh-pg-outage-'));
  chmodSync(dir, 0o755); // the server runs as the postgres user when tests run as root
  server = await startPostgres({ dir: join(dir, 'pg') });
  port = Number(new URL(server.url).port);
  await ensureDatabase(server.url);
  const c = await connectClient({ databaseUrl: server.url });
  await migrate(c);
  await c.end();
  fx = await createLedgerFixture('pgoutage');
  pool = createPool({ databaseUrl: server.url, dbMaxConns: 2 });
  worker = await startWorker(
    fx.workerConfig({
      DATABASE_URL: server.url,
      AUDIT_BATCH_SIZE: '50',
      AUDIT_RETRY_MAX_MS: '1000',
      DB_CONNECT_TIMEOUT_MS: '500',
    }),
  );
}, 120_000);

afterAll(async () => {
  await worker.stop();
  await pool.end().catch(() => {});
  await fx.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function stored(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
  return rows[0]!.n;
}

describe('Postgres stopped for 20 seconds', () => {
  it('acknowledges nothing early, dead-letters nothing, and recovers by itself', async () => {
    const before = realisticEvents(200, { seed: 1 });
    for (const e of before) await fx.xadd(e);
    await waitFor('first events stored', async () => (await stored()) === before.length);

    await server.stop();
    const during = realisticEvents(400, { seed: 2 });
    for (const e of during) await fx.xadd(e);
    await waitFor('worker notices Postgres is gone', async () => !worker.ingestor.postgresReachable, 30_000);
    expect((await worker.readiness()).reason).toBe('postgres_unreachable');

    // for 20 seconds: everything read stays pending (unacknowledged) and nothing is dead-lettered
    const checks = await holdsFor(20_000, 1000, async () => {
      const stats = await worker.refreshStats();
      expect(stats.dlqSize).toBe(0);
      expect(stats.pending + stats.undelivered).toBeGreaterThan(0);
    });
    expect(checks).toBeGreaterThanOrEqual(15);

    server = await startPostgres({ dir: join(dir, 'pg'), port });
    await waitFor(
      'all events stored after recovery',
      async () => (await stored().catch(() => 0)) === 600,
      60_000,
    );
    await waitFor('ready again', async () => (await worker.readiness()).ready, 30_000);
    const stats = await worker.refreshStats();
    expect(stats.dlqSize).toBe(0);
    expect(stats.pending).toBe(0);
    const report = await verifyLedger(pool, { key: fx.key });
    expect(report.faults).toEqual([]);
    expect(report.checked).toBe(600);
  }, 120_000);
});
