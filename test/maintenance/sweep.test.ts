// The integrity sweeper: a full sweep at start and rolling sweeps over recent ingestion, reported as
// caracal_audit_tamper_* metrics; signed checkpoints at an interval; the local stack's maintenance hook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../ledger/config/keys.ts';
import { integrityKeys } from '../../ledger/config/maintenance.ts';
import { startDevMaintenance } from '../../ledger/integrity-dev-maintenance.ts';
import { startIntegrityLoops } from '../../ledger/integrity-loops.ts';
import { createMaintenanceMetrics } from '../../ledger/integrity-metrics.ts';
import { startIntegrityService } from '../../ledger/integrity-service.ts';
import { silentLogger } from '../../ledger/runtime/log.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';
import {
  appendEvents,
  backdateIngestion,
  ensurePartitions,
  eventsOnDay,
  lastLedgerSeq,
  partitionOf,
  type TestCheckpointKey,
  testCheckpointKey,
} from './ledger-data.ts';

let fx: LedgerFixture;
let ck: TestCheckpointKey;
beforeAll(async () => {
  fx = await createLedgerFixture('sweep');
  ck = testCheckpointKey();
  await ensurePartitions(fx.db.pool, -1, 2);
  await appendEvents(fx.db.pool, eventsOnDay(-1, 80, ['zone-a', 'zone-b']), fx.key);
  await backdateIngestion(fx.db.pool, 10); // old news for a 4-hour rolling window
});
afterAll(async () => fx.close());

const metric = async (registry: import('prom-client').Registry, name: string, labels = '') => {
  const text = await registry.metrics();
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('integrity sweeper', () => {
  it('sweeps everything at start, signs a checkpoint, and serves the tamper metrics', async () => {
    const svc = await startIntegrityService(
      loadConfig('sweep', integrityKeys, {
        ...fx.env,
        PORT: '0',
        LEDGERHUB_CHECKPOINT_KEY: ck.privateKeyPem,
      }),
      { log: silentLogger() },
    );
    try {
      await waitFor(
        'the start-up sweep',
        async () => (await fetch(`http://127.0.0.1:${svc.port}/ready`)).status === 200,
      );
      const text = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
      expect(text).toMatch(/^caracal_audit_tamper_checked_total 80$/m);
      expect(text).toMatch(/^caracal_audit_tamper_mismatch_total 0$/m);
      expect(text).toMatch(/^ledgerhub_checkpoints_total 1$/m);
      expect(Number(/^caracal_audit_tamper_last_full_unix (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(
        Date.now() / 1000 - 60,
      );
    } finally {
      await svc.stop();
    }
    const { rows } = await fx.db.pool.query<{ zone_count: number }>(
      'SELECT zone_count FROM audit_checkpoints',
    );
    expect(rows).toEqual([{ zone_count: 2 }]);
  });

  it('rolls over recent ingestion only, and counts what it finds there', async () => {
    const metrics = createMaintenanceMetrics();
    const loops = startIntegrityLoops({
      pool: fx.db.pool,
      metrics,
      log: silentLogger(),
      key: fx.key,
      publicKeys: ck.trusted,
      signer: ck.signer,
      rollingHours: 4,
      sweepIntervalMs: 3_600_000,
      checkpointIntervalMs: 3_600_000,
      concurrency: 2,
    });
    try {
      await loops.started;
      const before = await lastLedgerSeq(fx.db.pool);
      await appendEvents(fx.db.pool, eventsOnDay(0, 20, ['zone-a']), fx.key);
      // tamper with an old row (outside the window) and a recent one (inside it)
      await fx.db.pool.query(
        "UPDATE audit_events SET evaluation_status = 'x' WHERE zone_id = 'zone-b' AND chain_seq = 3",
      );
      await fx.db.pool.query("UPDATE audit_events SET evaluation_status = 'x' WHERE ledger_seq = $1", [
        before + 5,
      ]);
      const rolling = await loops.sweeper.rolling();
      expect(rolling.checked).toBe(20);
      expect(rolling.faults.map((f) => f.kind)).toEqual(['content_mismatch']);
      expect(await metric(metrics.registry, 'caracal_audit_tamper_mismatch_total')).toBe(1);
      expect(await metric(metrics.registry, 'ledgerhub_integrity_faults', '{kind="content_mismatch"}')).toBe(
        1,
      );
      const full = await loops.sweeper.full();
      expect(full.faults.map((f) => [f.zone_id, f.kind])).toEqual([
        ['zone-a', 'content_mismatch'],
        ['zone-b', 'content_mismatch'],
      ]);
      expect(await metric(metrics.registry, 'caracal_audit_tamper_mismatch_total')).toBe(3);
    } finally {
      await loops.stop();
    }
  });
});

describe('local stack maintenance (ledgerhub dev)', () => {
  it('runs retention and the sweeper in-process and stops cleanly', async () => {
    await ensurePartitions(fx.db.pool, -3, 1);
    await appendEvents(fx.db.pool, eventsOnDay(-3, 10, ['zone-c']), fx.key);
    await fx.db.pool.query('SELECT ledgerhub_set_retention(1, $1, NULL)', ['dev']);
    const dev = startDevMaintenance({
      databaseUrl: fx.db.url,
      redisUrl: fx.env.REDIS_URL!,
      hmacKey: fx.key,
      checkpointKey: ck.privateKeyPem,
      stream: fx.stream,
      retentionIntervalMs: 3_600_000,
    });
    await dev.started;
    await dev.stop();
    expect(
      await metric(dev.metrics.registry, 'caracal_audit_retention_dropped_total'),
    ).toBeGreaterThanOrEqual(1);
    const { rows } = await fx.db.pool.query('SELECT partition_name FROM audit_tombstones');
    expect(rows.map((r) => r.partition_name)).toContain(partitionOf(-3));
    expect(await metric(dev.metrics.registry, 'caracal_audit_tamper_last_full_unix')).toBeGreaterThan(0);
  });
});
