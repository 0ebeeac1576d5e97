// Streaming rows out with COPY: planner settings given for one COPY apply to it and are reset after it,
// also when it fails; a setting name that is not a plain identifier is refused before anything runs.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN_ORDER_SETTINGS, copyRowsOut } from '../../ledger/integrity-row-stream.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-services.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

const setting = async (c: { query: TestDatabase['pool']['query'] }, name: string) =>
  ((await c.query(`SELECT current_setting('${name}') AS v`)) as { rows: { v: string }[] }).rows[0]!.v;

/** Runs `use` on a connection of the test database, released afterwards. */
async function withClient(use: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await db.pool.connect();
  try {
    await use(client);
  } finally {
    client.release();
  }
}

describe('copyRowsOut with session settings', () => {
  it('applies them to the COPY only', () =>
    withClient(async (client) => {
      const before = await setting(client, 'random_page_cost');
      const seen: (string | null)[][] = [];
      const n = await copyRowsOut(
        client,
        "SELECT current_setting('random_page_cost'), current_setting('max_parallel_workers_per_gather')",
        (f) => seen.push(f),
        undefined,
        CHAIN_ORDER_SETTINGS,
      );
      expect(n).toBe(1);
      expect(seen).toEqual([['1.1', '0']]);
      expect(await setting(client, 'random_page_cost')).toBe(before);
    }));

  it('resets them when the COPY fails', () =>
    withClient(async (client) => {
      const before = await setting(client, 'random_page_cost');
      await expect(
        copyRowsOut(client, 'SELECT 1/0', () => {}, undefined, CHAIN_ORDER_SETTINGS),
      ).rejects.toThrow(/division by zero/);
      expect(await setting(client, 'random_page_cost')).toBe(before);
    }));

  it('refuses a setting name that is not a plain identifier, running nothing', () =>
    withClient(async (client) => {
      let rows = 0;
      await expect(
        copyRowsOut(client, 'SELECT 1', () => rows++, undefined, { 'work_mem = 1; DROP TABLE x; --': '1' }),
      ).rejects.toThrow(/invalid setting name/);
      expect(rows).toBe(0);
    }));
});
