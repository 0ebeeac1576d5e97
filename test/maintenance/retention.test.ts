// Retention: whole daily partitions past the policy are retired (detached) through the SECURITY DEFINER
// function, each after its signed tombstone, then dropped to reclaim their space; partitions ahead are
// created; the id registry of dropped days is pruned; the run is recorded on the stream; dry runs and
// overlapping runs change nothing; a run interrupted between retiring and reclaiming is finished by the
// next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDocument } from '../../ledger/integrity-signature.ts';
import { listPartitions, RETENTION_LOCK, runRetention } from '../../ledger/retention.ts';
import { effectivePolicy } from '../../ledger/retention-policy.ts';
import { setRetention } from '../../ledger/retention-settings.ts';
import { verifySignature } from '../../ledger/stream-codec.ts';
import { PartitionSummary, type TombstonePayload } from '../../ledger/tombstone.ts';
import { recordTombstones, signTombstone, tombstonePayload } from '../../ledger/tombstone-store.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { startRole } from '../support/role-process.ts';
import {
  appendEvents,
  dayIso,
  ensurePartitions,
  eventsOnDay,
  partitionOf,
  type TestCheckpointKey,
  testCheckpointKey,
} from './ledger-data.ts';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
let fx: LedgerFixture;
let ck: TestCheckpointKey;
const countIn = async (part: string) =>
  (await fx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${part}`)).rows[0]!.n;
const tableExists = async (name: string) =>
  (await fx.db.pool.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [`public.${name}`]))
    .rows[0]!.r !== null;

beforeAll(async () => {
  fx = await createLedgerFixture('retention');
  ck = testCheckpointKey();
  // days -40..-37 and -2..0; retention of 30 days leaves -40..-37 past it
  await ensurePartitions(fx.db.pool, -40, 4);
  await ensurePartitions(fx.db.pool, -2, 3);
  for (const day of [-40, -39, -38, -2, -1])
    await appendEvents(fx.db.pool, eventsOnDay(day, 30, ZONES), fx.key);
});
afterAll(async () => fx.close());

const options = { ceilingDays: 30, partitionAheadDays: 3, pruneBatch: 7 };

const asRole = async <T>(
  role: string,
  fn: (q: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<T>,
) => {
  const client = await fx.db.pool.connect();
  try {
    await client.query(`SET ROLE ${role}`);
    return await fn((sql, params) => client.query(sql, params as unknown[]));
  } finally {
    await client.query('RESET ROLE');
    client.release();
  }
};

describe('retention', () => {
  it('in a dry run, names the partitions it would drop and the events in them, and changes nothing', async () => {
    const before = await listPartitions(fx.db.pool);
    const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, { ...options, dryRun: true });
    expect(report.dry_run).toBe(true);
    expect(report.dropped.map((d) => [d.partition, d.event_count])).toEqual([
      [partitionOf(-40), 30],
      [partitionOf(-39), 30],
      [partitionOf(-38), 30],
      [partitionOf(-37), 0],
    ]);
    expect(report.partitions_created).toBe(3);
    expect(await listPartitions(fx.db.pool)).toEqual(before);
    expect((await fx.db.pool.query('SELECT 1 FROM audit_tombstones')).rowCount).toBe(0);
  });

  it('does nothing while another run holds the retention lock', async () => {
    const other = await fx.db.pool.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK.toString()]);
      const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, options);
      expect(report.ran).toBe(false);
      expect(report.dropped).toEqual([]);
      expect(await listPartitions(fx.db.pool)).toContain(partitionOf(-40));
    } finally {
      await other.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK.toString()]);
      other.release();
    }
  });

  it('refuses to drop anything without a checkpoint key to sign tombstones with', async () => {
    await expect(runRetention({ pool: fx.db.pool, signer: null }, options)).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringMatching(/LEDGERHUB_CHECKPOINT_KEY is not set/),
    });
    expect(await listPartitions(fx.db.pool)).toContain(partitionOf(-40));
  });

  it('drops every partition past retention after recording its signed tombstone, and keeps the rest', async () => {
    const zonesIn = await fx.db.pool.query<{ zone_id: string; n: number; lo: number; hi: number }>(
      `SELECT zone_id, count(*)::int AS n, min(chain_seq)::int AS lo, max(chain_seq)::int AS hi FROM ${partitionOf(-39)}
       GROUP BY zone_id ORDER BY zone_id`,
    );
    const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, options);
    expect(report.dropped.map((d) => d.partition)).toEqual([-40, -39, -38, -37].map(partitionOf));
    expect(report.tables_reclaimed).toBe(4);
    const left = await listPartitions(fx.db.pool);
    for (const day of [-40, -39, -38, -37]) {
      expect(left).not.toContain(partitionOf(day));
      expect(await tableExists(partitionOf(day))).toBe(false);
    }
    for (const day of [-2, -1, 0, 1, 2, 3]) expect(left).toContain(partitionOf(day));
    // the report names each partition's own tombstone row
    const recorded = await fx.db.pool.query<{ id: number; partition_name: string }>(
      'SELECT id::int AS id, partition_name FROM audit_tombstones',
    );
    const idOf = new Map(recorded.rows.map((r) => [r.partition_name, r.id]));
    for (const d of report.dropped) expect(d.tombstone_id).toBe(idOf.get(d.partition));

    const { rows } = await fx.db.pool.query<{ document: string; event_count: number }>(
      'SELECT document, event_count FROM audit_tombstones WHERE partition_name = $1',
      [partitionOf(-39)],
    );
    const opened = openDocument<TombstonePayload>(rows[0]!.document, ck.trusted, 'ledgerhub.tombstone');
    if (!opened.ok) throw new Error(opened.reason);
    const t = opened.payload;
    expect(t).toMatchObject({
      partition: partitionOf(-39),
      day: dayIso(-39),
      event_count: 30,
      policy: { retention_days: 30, max_days: 30, source: 'ceiling' },
    });
    expect(t.zones.map((z) => [z.zone_id, z.count, z.runs[0]!.from, z.runs.at(-1)!.to])).toEqual(
      zonesIn.rows.map((z) => [z.zone_id, z.n, z.lo, z.hi]),
    );
    expect(t.zones[0]!.runs[0]!.prev_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves a ledger that verifies, every dropped row explained by a tombstone', async () => {
    const report = await verifyLedger(fx.db.pool, { key: fx.key, publicKeys: ck.trusted });
    expect(report.faults).toEqual([]);
    expect(report.tombstoned).toBe(90);
    expect(report.checked).toBe(60);
  });

  it('prunes the id registry of the dropped days only', async () => {
    const count = async (from: number, to: number) =>
      (
        await fx.db.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM audit_event_ids WHERE occurred_at >= $1 AND occurred_at < $2',
          [dayIso(from), dayIso(to)],
        )
      ).rows[0]!.n;
    expect(await count(-40, -37)).toBe(0);
    expect(await count(-2, 0)).toBe(60);
    const { rows } = await fx.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_tombstones WHERE ids_pruned_at IS NULL',
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('follows a shorter retention set through the API setting', async () => {
    await setRetention(fx.db.pool, 1, 'ops@example', 30);
    const n = await countIn(partitionOf(-2));
    const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, options);
    expect(report.policy).toEqual({ retention_days: 1, max_days: 30, source: 'setting' });
    expect(report.dropped.map((d) => [d.partition, d.event_count])).toEqual([[partitionOf(-2), n]]);
    expect((await verifyLedger(fx.db.pool, { key: fx.key, publicKeys: ck.trusted })).faults).toEqual([]);
  });

  it('includes in the tombstone a late event committed into the day while the run was preparing', async () => {
    await ensurePartitions(fx.db.pool, -30, 1);
    await appendEvents(fx.db.pool, eventsOnDay(-30, 6, ZONES), fx.key);
    const late = eventsOnDay(-30, 1, ['zone-b'], 4242)[0]!;
    const report = await runRetention(
      { pool: fx.db.pool, signer: ck.signer },
      { ...options, onPrepared: () => appendEvents(fx.db.pool, [late], fx.key) },
    );
    expect(report.dropped).toContainEqual(
      expect.objectContaining({ partition: partitionOf(-30), event_count: 7 }),
    );
    expect((await verifyLedger(fx.db.pool, { key: fx.key, publicKeys: ck.trusted })).faults).toEqual([]);
  });
});

describe('the partition drop function', () => {
  it('cannot be called by the ingest role, which still cannot UPDATE or DELETE rows', async () => {
    await asRole('ledgerhub_ingest', async (q) => {
      await expect(q('SELECT ledgerhub_drop_partition($1, 1)', [partitionOf(-1)])).rejects.toMatchObject({
        code: '42501',
      });
      await expect(q('SELECT ledgerhub_prune_event_ids($1, 1)', [partitionOf(-40)])).rejects.toMatchObject({
        code: '42501',
      });
      await expect(q("DELETE FROM audit_events WHERE zone_id = 'zone-a'")).rejects.toMatchObject({
        code: '42501',
      });
      await expect(q("UPDATE audit_events SET decision = 'allow'")).rejects.toMatchObject({ code: '42501' });
    });
  });

  it.each([
    ['ledgerhub_drop_partitions', 'drop'],
    ['ledgerhub_retire_partitions', 'retire'],
  ])(
    '%s refuses hostile and malformed names, non-partitions, days inside retention and partitions without a tombstone',
    async (fn) => {
      await fx.db.pool.query('CREATE TABLE IF NOT EXISTS audit_events_p20200101 (x int)');
      await asRole('ledgerhub_maintainer', async (q) => {
        const refused = async (name: string | null, days: number, why: RegExp) =>
          expect(q(`SELECT ${fn}($1, $2)`, [[name], days])).rejects.toThrow(why);
        await refused(`${partitionOf(-1)}; DROP TABLE audit_events`, 1, /not a daily audit partition name/);
        await refused('audit_events', 1, /not a daily audit partition name/);
        await refused('audit_events_default', 1, /not a daily audit partition name/);
        await refused('audit_event_ids', 1, /not a daily audit partition name/);
        await refused('"audit_events_p20260101"', 1, /not a daily audit partition name/);
        await refused('audit_events_p20261399', 1, /date|not a calendar day/);
        await refused(null, 1, /not a daily audit partition name/);
        await refused('audit_events_p20200101', 1, /is not a partition of audit_events/);
        await refused(partitionOf(0), 1, /inside the retention window/);
        await refused(partitionOf(-1), 0, /retention_days must be at least 1/);
        await refused(partitionOf(-1), 30, /inside the retention window/);
        await refused(partitionOf(-1), 1, /inside the retention window/);
        await expect(q(`SELECT ${fn}($1, 1)`, [[]])).rejects.toThrow(/between 1 and 100 partitions/);
      });
      await ensurePartitions(fx.db.pool, -20, 1);
      await asRole('ledgerhub_maintainer', (q) =>
        expect(q(`SELECT ${fn}($1, 1)`, [[partitionOf(-20)]])).rejects.toThrow(/has no tombstone/),
      );
      expect(await listPartitions(fx.db.pool)).toContain(partitionOf(-20));
    },
  );

  it('reclaims only retired tables with a tombstone, never a live partition or a stray table', async () => {
    const n = await asRole('ledgerhub_maintainer', async (q) => {
      await expect(q('SELECT ledgerhub_reclaim_retired(0)')).rejects.toThrow(/max_tables must be between/);
      return ((await q('SELECT ledgerhub_reclaim_retired(100) AS n')) as { rows: { n: number }[] }).rows[0]!
        .n;
    });
    expect(n).toBe(0);
    expect(await tableExists('audit_events_p20200101')).toBe(true);
    expect(await listPartitions(fx.db.pool)).toContain(partitionOf(-20));
    await asRole('ledgerhub_ingest', (q) =>
      expect(q('SELECT ledgerhub_reclaim_retired(1)')).rejects.toMatchObject({ code: '42501' }),
    );
  });
});

describe('ledgerhub retention (the command, as the maintainer role)', () => {
  it('drops with the maintainer role, records the run as a signed event on the stream, and prints a summary', async () => {
    await ensurePartitions(fx.db.pool, -10, 1);
    await appendEvents(fx.db.pool, eventsOnDay(-10, 12, ZONES), fx.key);
    const p = startRole('retention', {
      ...fx.env,
      LEDGERHUB_DB_ROLE: 'ledgerhub_maintainer',
      LEDGERHUB_CHECKPOINT_KEY: ck.privateKeyPem,
      AUDIT_RETENTION_DAYS: '5',
      LOG_LEVEL: 'warn',
    });
    const { code } = await p.exited;
    expect(p.stderr.join('\n')).toContain(`dropped ${partitionOf(-10)}: 12 event(s)`);
    expect(code).toBe(0);
    expect(p.logs.map((l) => String(l.msg)).join('\n')).toMatch(
      /^OK: retention 1 day\(s\) \(setting\), dropped 2 partition\(s\)/,
    );
    const entries = await fx.redis.xrange(fx.stream, '-', '+');
    const fields = new Map<string, string>();
    const last = entries.at(-1)![1];
    for (let i = 0; i < last.length; i += 2) fields.set(last[i]!, last[i + 1]!);
    const event = JSON.parse(fields.get('data')!);
    expect(event).toMatchObject({
      event_type: 'ledgerhub.retention.run',
      zone_id: 'ledgerhub-system',
      decision: 'allow',
    });
    expect(event.metadata_json.partitions_dropped).toEqual([partitionOf(-20), partitionOf(-10)]);
    expect(verifySignature(fx.key, Buffer.from(fields.get('data')!), Buffer.from(fields.get('sig')!))).toBe(
      true,
    );
    expect((await verifyLedger(fx.db.pool, { key: fx.key, publicKeys: ck.trusted })).faults).toEqual([]);
  });
});

describe('a run interrupted between retiring and reclaiming', () => {
  it('leaves the rows out of the ledger, unreadable but by the owner, and the next run drops the table', async () => {
    await ensurePartitions(fx.db.pool, -25, 1);
    await appendEvents(fx.db.pool, eventsOnDay(-25, 5, ZONES), fx.key);
    const name = partitionOf(-25);
    // what the retire transaction does, then a crash before the reclaim
    const client = await fx.db.pool.connect();
    try {
      await client.query('BEGIN');
      const summary = new PartitionSummary();
      const { rows } = await client.query<{
        zone_id: string;
        chain_seq: number;
        content_sha256: string;
        prev_content_sha256: string | null;
      }>(
        `SELECT zone_id, chain_seq, content_sha256, prev_content_sha256 FROM ${name} ORDER BY zone_id, chain_seq`,
      );
      for (const r of rows)
        summary.add(r.zone_id, r.chain_seq, r.content_sha256, r.prev_content_sha256, null);
      const policy = effectivePolicy(30, 1);
      await recordTombstones(client, [
        signTombstone(ck.signer, tombstonePayload(name, summary, policy, new Date())),
      ]);
      await client.query('SELECT ledgerhub_retire_partitions($1, 1)', [[name]]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await listPartitions(fx.db.pool)).not.toContain(name);
    expect(await tableExists(name)).toBe(true);
    const seen = await fx.db.pool.query(
      'SELECT 1 FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2',
      [dayIso(-25), dayIso(-24)],
    );
    expect(seen.rowCount).toBe(0);
    await asRole('ledgerhub_reader', (q) =>
      expect(q(`SELECT * FROM ${name}`)).rejects.toMatchObject({ code: '42501' }),
    );
    expect((await verifyLedger(fx.db.pool, { key: fx.key, publicKeys: ck.trusted })).faults).toEqual([]);

    const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, options);
    expect(report.tables_reclaimed).toBeGreaterThanOrEqual(1);
    expect(await tableExists(name)).toBe(false);
    const pruned = await fx.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_event_ids WHERE occurred_at >= $1 AND occurred_at < $2',
      [dayIso(-25), dayIso(-24)],
    );
    expect(pruned.rows[0]!.n).toBe(0);
  });
});

describe('retention next to a long reader', () => {
  it('gives up after its lock timeout with retention_busy, removing nothing, and succeeds once the reader is done', async () => {
    await ensurePartitions(fx.db.pool, -15, 1);
    await appendEvents(fx.db.pool, eventsOnDay(-15, 4, ZONES), fx.key);
    const reader = await fx.db.pool.connect();
    try {
      // an open transaction that read audit_events (as a long export COPY would) holds its lock
      await reader.query('BEGIN');
      await reader.query('SELECT 1 FROM audit_events LIMIT 1');
      await expect(
        runRetention(
          { pool: fx.db.pool, signer: ck.signer },
          { ...options, lockTimeoutMs: 100, lockAttempts: 2 },
        ),
      ).rejects.toMatchObject({ code: 'retention_busy', message: expect.stringMatching(/stayed locked/) });
      expect(await listPartitions(fx.db.pool)).toContain(partitionOf(-15));
      const t = await fx.db.pool.query('SELECT 1 FROM audit_tombstones WHERE partition_name = $1', [
        partitionOf(-15),
      ]);
      expect(t.rowCount).toBe(0);
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
    const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, options);
    expect(report.dropped.map((d) => d.partition)).toContain(partitionOf(-15));
    expect(await tableExists(partitionOf(-15))).toBe(false);
  });

  it('leaves alone a table of a partition name that another role owns, without failing', async () => {
    const name = 'audit_events_p20200102';
    await fx.db.pool.query(`CREATE TABLE ${name} (x int)`);
    await fx.db.pool.query(`ALTER TABLE ${name} OWNER TO ledgerhub_reader`);
    await fx.db.pool.query(
      // as if our partition of that day was dropped long ago and the name later reused by someone else
      `INSERT INTO audit_tombstones (partition_name, day, event_count, key_fingerprint, document, ids_pruned_at)
       VALUES ($1, '2020-01-02', 0, 'test', '{}', now())`,
      [name],
    );
    try {
      const report = await runRetention({ pool: fx.db.pool, signer: ck.signer }, options);
      expect(report.ran).toBe(true);
      expect(await tableExists(name)).toBe(true);
    } finally {
      await fx.db.pool.query('DELETE FROM audit_tombstones WHERE partition_name = $1', [name]);
      await fx.db.pool.query(`DROP TABLE ${name}`);
    }
  });
});

describe('a day dropped before and whose partition was created again by hand', () => {
  it('is refused with retention_refused naming the partition, before anything is removed', async () => {
    await ensurePartitions(fx.db.pool, -33, 1);
    await appendEvents(fx.db.pool, eventsOnDay(-33, 4, ZONES), fx.key);
    const name = partitionOf(-33);
    // its tombstone from the earlier drop (the same name is unique among tombstones)
    await fx.db.pool.query(
      `INSERT INTO audit_tombstones (partition_name, day, event_count, key_fingerprint, document, ids_pruned_at)
       VALUES ($1, $2, 0, 'test', '{}', now())`,
      [name, dayIso(-33).slice(0, 10)],
    );
    const tombstonesBefore = (await fx.db.pool.query('SELECT id FROM audit_tombstones')).rowCount;
    try {
      await expect(runRetention({ pool: fx.db.pool, signer: ck.signer }, options)).rejects.toMatchObject({
        code: 'retention_refused',
        message: expect.stringContaining(`a tombstone is already recorded for ${name}`),
      });
      expect(await listPartitions(fx.db.pool)).toContain(name);
      expect(await countIn(name)).toBe(4);
      expect((await fx.db.pool.query('SELECT id FROM audit_tombstones')).rowCount).toBe(tombstonesBefore);
    } finally {
      await fx.db.pool.query('DELETE FROM audit_tombstones WHERE partition_name = $1', [name]);
      await fx.db.pool.query(`DROP TABLE ${name}`);
    }
  });
});
