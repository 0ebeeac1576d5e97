import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../ledger/db.ts';
import { loadMigrations, migrate } from '../../ledger/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-services.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

describe('migrations', () => {
  it('are already applied to a migrated database and applying again changes nothing', async () => {
    const client = await connectClient({ databaseUrl: db.url });
    const result = await migrate(client);
    await client.end();
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe(loadMigrations().length);
  });

  it('store tombstone documents (written under the commit lock) inline up to ~8 KB, lz4-compressed above', async () => {
    const doc = (zones: number) =>
      JSON.stringify({
        zones: Array.from({ length: zones }, (_, i) => ({
          zone_id: `zone-${i}`,
          from: i,
          sha256: 'ab'.repeat(32),
        })),
      });
    const stored: Record<string, string | null> = {};
    for (const [name, zones] of [
      ['typical', 40],
      ['large', 400],
    ] as const) {
      const part = name === 'typical' ? 'audit_events_p20000101' : 'audit_events_p20000102';
      await db.pool.query(
        `INSERT INTO audit_tombstones (partition_name, day, event_count, key_fingerprint, document)
         VALUES ($1, '2000-01-01', 0, 'test', $2)`,
        [part, doc(zones)],
      );
      const { rows } = await db.pool.query<{ method: string | null }>(
        'SELECT pg_column_compression(document) AS method FROM audit_tombstones WHERE partition_name = $1',
        [part],
      );
      await db.pool.query('DELETE FROM audit_tombstones WHERE partition_name = $1', [part]);
      stored[name] = rows[0]!.method;
    }
    expect(doc(40).length).toBeGreaterThan(2048);
    expect(doc(40).length).toBeLessThan(8000);
    // under the default 2 KB target it would have been compressed (and stored out of line)
    expect(stored.typical).toBeNull();
    expect(doc(400).length).toBeGreaterThan(8160);
    expect(stored.large).toBe('lz4');
  });

  it('run safely from two runners at once', async () => {
    const [a, b] = await Promise.all([
      connectClient({ databaseUrl: db.url }),
      connectClient({ databaseUrl: db.url }),
    ]);
    const results = await Promise.all([migrate(a), migrate(b)]);
    await Promise.all([a.end(), b.end()]);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });

  it('refuse to continue when an applied migration file was edited', async () => {
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    const client = await connectClient({ databaseUrl: db.url });
    await expect(migrate(client, edited)).rejects.toThrow(/was changed after it was applied/);
    await client.end();
  });

  it('roll back a failing migration and report which one', async () => {
    const broken = [
      ...loadMigrations(),
      { version: 9999, name: '9999_broken', sql: 'CREATE TABLE x (; ', checksum: 'c' },
    ];
    const client = await connectClient({ databaseUrl: db.url });
    await expect(migrate(client, broken)).rejects.toThrow(/migration 9999_broken failed/);
    const { rowCount } = await client.query('SELECT 1 FROM ledgerhub_migrations WHERE version = 9999');
    await client.end();
    expect(rowCount).toBe(0);
  });

  it('create partitions for late days without losing rows already in the default partition', async () => {
    await db.pool.query(`INSERT INTO audit_events (id, zone_id, event_type, occurred_at, ledger_seq)
      VALUES ('old-1', 'z', 't', '2020-01-02T10:00:00Z', 1)`);
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT ledgerhub_ensure_partitions('2020-01-01', 3) AS n",
    );
    expect(rows[0]!.n).toBe(3);
    const where = await db.pool.query<{ part: string }>(
      "SELECT tableoid::regclass::text AS part FROM audit_events WHERE id = 'old-1'",
    );
    expect(where.rows[0]!.part).toBe('audit_events_p20200102');
  });
});
