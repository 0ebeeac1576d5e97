import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../ledger/db.ts';
import { loadMigrations, migrate } from '../../ledger/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-services.ts';

/** Every partition's indexes (what audit_events itself had before 0006), `%` standing for its name. */
const EXPECTED_INDEXES = [
  "CREATE INDEX %_agent_session_idx ON public.% USING btree (((metadata_json ->> 'agent_session_id'::text))) WHERE (metadata_json ? 'agent_session_id'::text)",
  'CREATE INDEX %_ingested_brin ON public.% USING brin (ingested_at)',
  "CREATE INDEX %_labels_idx ON public.% USING gin (((metadata_json -> 'agent_labels'::text)))",
  "CREATE INDEX %_ledger_seq_brin ON public.% USING brin (ledger_seq) WITH (pages_per_range='16')",
  'CREATE INDEX %_request_id_idx ON public.% USING btree (request_id) WHERE (request_id IS NOT NULL)',
  "CREATE INDEX %_session_idx ON public.% USING btree (((metadata_json ->> 'session_id'::text))) WHERE (metadata_json ? 'session_id'::text)",
  'CREATE INDEX %_zone_chain_idx ON public.% USING btree (zone_id, chain_seq DESC)',
  'CREATE INDEX %_zone_time_idx ON public.% USING btree (zone_id, occurred_at DESC, id DESC)',
  'CREATE UNIQUE INDEX %_pkey ON public.% USING btree (id, occurred_at)',
];

interface TableIndexes {
  /** pg_get_indexdef of each index, the table's name replaced by `%`, sorted */
  defs: string[];
  /** how many of them are still attached to a parent index */
  attached: number;
  primaryKeys: number;
}

async function indexesOf(db: pg.ClientBase | pg.Pool, table: string): Promise<TableIndexes> {
  const { rows } = await db.query<{ def: string; attached: boolean; primary: boolean }>(
    `SELECT replace(pg_get_indexdef(x.indexrelid), $1, '%') AS def, c.relispartition AS attached,
            x.indisprimary AS primary
       FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
      WHERE x.indrelid = to_regclass('public.' || $1)
      ORDER BY 1`,
    [table],
  );
  return {
    defs: rows.map((r) => r.def),
    attached: rows.filter((r) => r.attached).length,
    primaryKeys: rows.filter((r) => r.primary).length,
  };
}

async function partitionsOf(db: pg.ClientBase | pg.Pool): Promise<string[]> {
  const { rows } = await db.query<{ part: string }>(
    `SELECT c.relname AS part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'public.audit_events'::regclass ORDER BY 1`,
  );
  return rows.map((r) => r.part);
}

async function expectLocalIndexes(db: pg.ClientBase | pg.Pool, table: string): Promise<void> {
  const found = await indexesOf(db, table);
  expect(found.defs, table).toEqual(EXPECTED_INDEXES);
  expect(found.attached, table).toBe(0);
  expect(found.primaryKeys, table).toBe(1);
}

async function insertEvent(db: pg.ClientBase | pg.Pool, id: string, occurredAt: string, seq: number) {
  await db.query(
    `INSERT INTO audit_events (id, zone_id, event_type, request_id, metadata_json, occurred_at, ledger_seq)
     VALUES ($1, 'z', 't', 'req-' || $1, jsonb_build_object('session_id', 's-' || $1), $2, $3)`,
    [id, occurredAt, seq],
  );
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

describe('audit_events partition indexes', () => {
  it('leave audit_events without indexes of its own', async () => {
    expect((await indexesOf(db.pool, 'audit_events')).defs).toEqual([]);
  });

  it('are on the default partition', async () => {
    await expectLocalIndexes(db.pool, 'audit_events_default');
  });

  it('are created with every partition ledgerhub_ensure_partitions creates', async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT ledgerhub_ensure_partitions('2031-01-01', 3) AS n",
    );
    expect(rows[0]!.n).toBe(3);
    for (const part of ['audit_events_p20310101', 'audit_events_p20310102', 'audit_events_p20310103']) {
      await expectLocalIndexes(db.pool, part);
    }
  });

  it('are created with a late partition whose rows were waiting in the default partition', async () => {
    await insertEvent(db.pool, 'late-1', '2021-03-04T05:00:00Z', 1);
    await insertEvent(db.pool, 'late-2', '2021-03-04T23:59:59Z', 2);
    await db.pool.query("SELECT ledgerhub_ensure_partitions('2021-03-04', 1)");
    const { rows } = await db.pool.query<{ part: string }>(
      "SELECT DISTINCT tableoid::regclass::text AS part FROM audit_events WHERE id LIKE 'late-%'",
    );
    expect(rows.map((r) => r.part)).toEqual(['audit_events_p20210304']);
    await expectLocalIndexes(db.pool, 'audit_events_p20210304');
  });

  it('keep the primary key refusing a duplicate (id, occurred_at) within a partition', async () => {
    await insertEvent(db.pool, 'dup-1', '2031-01-02T10:00:00Z', 3);
    await expect(insertEvent(db.pool, 'dup-1', '2031-01-02T10:00:00Z', 4)).rejects.toMatchObject({
      code: '23505',
      constraint: 'audit_events_p20310102_pkey',
    });
  });

  it("serve a request id lookup through each partition's request_id index", async () => {
    const client = await db.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        "EXPLAIN SELECT id FROM audit_events WHERE request_id = 'x'",
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(
        /Index Scan using audit_events_p20310101_request_id_idx on audit_events_p20310101/,
      );
      expect(plan).toMatch(/using audit_events_default_request_id_idx/);
      expect(plan).not.toMatch(/Seq Scan/);
    } finally {
      client.release();
    }
  });

  it('refuse to index a table that is not a daily partition or the default partition', async () => {
    for (const name of [
      'audit_events; DROP TABLE x',
      'audit_event_ids',
      'audit_events',
      'audit_events_p2031010',
    ]) {
      await expect(db.pool.query('SELECT ledgerhub_index_partition($1)', [name])).rejects.toThrow(
        /not an audit_events partition name \(audit_events_default or audit_events_pYYYYMMDD\)/,
      );
    }
    // ledgerhub_partition_day's check (0003): to_date itself refuses most impossible days
    await expect(db.pool.query("SELECT ledgerhub_index_partition('audit_events_p20310231')")).rejects.toThrow(
      /not a calendar day|date\/time field value out of range/,
    );
    await expect(db.pool.query("SELECT ledgerhub_index_partition('audit_events_p20400101')")).rejects.toThrow(
      /no table public.audit_events_p20400101 to index/,
    );
  });

  it('can be created only by the owner', async () => {
    const { rows } = await db.pool.query<{ role: string; allowed: boolean }>(
      `SELECT r AS role, has_function_privilege(r, 'ledgerhub_index_partition(text)', 'EXECUTE') AS allowed
         FROM unnest(ARRAY['ledgerhub_ingest', 'ledgerhub_reader', 'ledgerhub_forwarder',
                           'ledgerhub_maintainer']) r`,
    );
    expect(rows.filter((r) => r.allowed)).toEqual([]);
  });
});

describe('migration 0006 on a ledger created before it', () => {
  let old: TestDatabase;
  beforeAll(async () => {
    old = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => old.drop());

  it('moves every partition index to a local one under its new name, rebuilding none and keeping every row', async () => {
    const client = await connectClient({ databaseUrl: old.url });
    try {
      const all = loadMigrations();
      const before0006 = all.filter((m) => m.version < 6);
      expect(before0006.length).toBe(5);
      await migrate(client, before0006);
      await client.query("SELECT ledgerhub_ensure_partitions('2031-01-01', 3)");
      let seq = 0;
      for (const day of ['2031-01-01', '2031-01-02', '2031-01-03', '2021-03-04']) {
        for (let i = 0; i < 20; i++)
          await insertEvent(client, `${day}-${i}`, `${day}T0${i % 10}:00:00Z`, ++seq);
      }
      // a late day created after its rows arrived: its indexes were made by ATTACH, not CREATE ... PARTITION OF
      await client.query("SELECT ledgerhub_ensure_partitions('2021-03-04', 1)");
      await insertEvent(client, 'still-in-default', '2019-06-01T00:00:00Z', ++seq);
      const files = async () =>
        (
          await client.query<{ f: string }>(
            `SELECT x.indexrelid::text || ':' || c.relfilenode AS f FROM pg_index x
               JOIN pg_class c ON c.oid = x.indexrelid
               JOIN pg_inherits i ON i.inhrelid = x.indrelid AND i.inhparent = 'public.audit_events'::regclass
              ORDER BY 1`,
          )
        ).rows.map((r) => r.f);
      const rowsOf = async () =>
        (
          await client.query<{ r: string }>(
            "SELECT id || ' ' || tableoid::regclass::text AS r FROM audit_events ORDER BY ledger_seq",
          )
        ).rows.map((r) => r.r);
      const partsBefore = await partitionsOf(client);
      const filesBefore = await files();
      const rowsBefore = await rowsOf();
      expect(partsBefore.length).toBe(5);
      expect((await indexesOf(client, 'audit_events')).defs.length).toBe(EXPECTED_INDEXES.length);

      const result = await migrate(client, all);
      expect(result.applied).toContain('0006_partition_local_indexes');

      expect(await partitionsOf(client)).toEqual(partsBefore);
      expect(await rowsOf()).toEqual(rowsBefore);
      expect(await files()).toEqual(filesBefore);
      expect((await indexesOf(client, 'audit_events')).defs).toEqual([]);
      for (const part of partsBefore) await expectLocalIndexes(client, part);
      // the bounds survived the round trip: a row lands in its day's partition, not in the default
      await insertEvent(client, 'after', '2031-01-02T12:00:00Z', ++seq);
      const { rows } = await client.query<{ part: string }>(
        "SELECT tableoid::regclass::text AS part FROM audit_events WHERE id = 'after'",
      );
      expect(rows[0]!.part).toBe('audit_events_p20310102');
    } finally {
      await client.end();
    }
  });
});
