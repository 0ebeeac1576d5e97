// GET/PUT /v1/audit-retention semantics as Caracal has them, usable by the API's read-only role through
// the SECURITY DEFINER setter; every change is kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLedgerhubError } from '../../ledger/errors.ts';
import { getRetention, setRetention } from '../../ledger/retention-settings.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('retention-settings');
});
afterAll(async () => fx.close());

async function asReader<T>(fn: (db: import('pg').PoolClient) => Promise<T>): Promise<T> {
  const client = await fx.db.pool.connect();
  try {
    await client.query('SET ROLE ledgerhub_reader');
    return await fn(client);
  } finally {
    await client.query('RESET ROLE');
    client.release();
  }
}

describe('retention setting', () => {
  it('reports the ceiling when nothing was set', async () => {
    expect(await getRetention(fx.db.pool, 365)).toEqual({
      retention_days: 365,
      max_days: 365,
      updated_by: null,
      updated_at: null,
    });
  });

  it('lets the read-only API role shorten retention through the setter, and says who and when', async () => {
    const set = await asReader((db) => setRetention(db, 90, 'alice@example', 365));
    expect(set).toMatchObject({ retention_days: 90, max_days: 365, updated_by: 'alice@example' });
    expect(set.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(await asReader((db) => getRetention(db, 365))).toEqual(set);
  });

  it('refuses a value above the ceiling with retention_above_limit and max_days', async () => {
    const err = await setRetention(fx.db.pool, 400, 'bob', 365).catch((e: unknown) => e);
    expect(isLedgerhubError(err)).toBe(true);
    expect((err as { toJSON(): unknown }).toJSON()).toMatchObject({
      error: 'retention_above_limit',
      max_days: 365,
    });
    expect((await getRetention(fx.db.pool, 365)).retention_days).toBe(90);
  });

  it('refuses a body that is not an integer of at least 1 with invalid_body', async () => {
    for (const bad of [0, -3, 1.5, '30', null, Number.NaN]) {
      await expect(setRetention(fx.db.pool, bad, 'bob', 365)).rejects.toMatchObject({ code: 'invalid_body' });
    }
  });

  it('enforces the limit in the database too, and the API role cannot write the table directly', async () => {
    await asReader(async (db) => {
      await expect(db.query('SELECT ledgerhub_set_retention(500, $1, 365)', ['mallory'])).rejects.toThrow(
        /retention_above_limit/,
      );
      await expect(db.query('UPDATE audit_retention SET retention_days = 1')).rejects.toMatchObject({
        code: '42501',
      });
      await expect(db.query('DELETE FROM audit_retention_changes')).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('reports the lowered ceiling when it falls below the stored setting', async () => {
    expect((await getRetention(fx.db.pool, 30)).retention_days).toBe(30);
  });

  it('keeps every change with the value before it', async () => {
    await setRetention(fx.db.pool, 60, 'carol', 365);
    const { rows } = await fx.db.pool.query(
      'SELECT retention_days, previous_days, max_days, updated_by FROM audit_retention_changes ORDER BY id',
    );
    expect(rows).toEqual([
      { retention_days: 90, previous_days: null, max_days: 365, updated_by: 'alice@example' },
      { retention_days: 60, previous_days: 90, max_days: 365, updated_by: 'carol' },
    ]);
  });
});
