import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../ledger/db.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { startWorker } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('roles');
});
afterAll(async () => fx.close());

describe('database roles', () => {
  it('let the worker ingest as ledgerhub_ingest', async () => {
    const worker = await startWorker(fx.workerConfig({ LEDGERHUB_DB_ROLE: 'ledgerhub_ingest' }));
    for (const e of realisticEvents(50, { seed: 3 })) await fx.xadd(e);
    await waitFor('stored', async () => (await fx.storedCount()) === 50);
    await worker.stop();
  });

  it('refuse UPDATE and DELETE of audit rows to the ingest role', async () => {
    const ingest = createPool({ databaseUrl: fx.db.url, dbRole: 'ledgerhub_ingest', dbMaxConns: 1 });
    await expect(ingest.query("UPDATE audit_events SET decision = 'allow'")).rejects.toThrow(
      /permission denied/,
    );
    await expect(ingest.query('DELETE FROM audit_events')).rejects.toThrow(/permission denied/);
    await expect(ingest.query('DELETE FROM audit_event_ids')).rejects.toThrow(/permission denied/);
    await expect(ingest.query('TRUNCATE audit_events')).rejects.toThrow(/permission denied/);
    await expect(ingest.query('DROP TABLE audit_events_default')).rejects.toThrow(/must be owner/);
    await ingest.end();
  });

  it('give the read role SELECT only', async () => {
    const reader = createPool({ databaseUrl: fx.db.url, dbRole: 'ledgerhub_reader', dbMaxConns: 1 });
    const { rows } = await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    expect(rows[0]!.n).toBe(50);
    await expect(
      reader.query(
        "INSERT INTO audit_events (id, zone_id, event_type, occurred_at, ledger_seq) VALUES ('x','z','t',now(),999)",
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(reader.query('SELECT ledgerhub_ensure_partitions(current_date, 1)')).rejects.toThrow(
      /permission denied/,
    );
    await reader.end();
  });

  it('refuse to connect when the role cannot be assumed, instead of running with the login privileges', async () => {
    const bogus = createPool({ databaseUrl: fx.db.url, dbRole: 'no_such_role', dbMaxConns: 1 });
    await expect(bogus.query('SELECT 1')).rejects.toThrow(/no_such_role/);
    await bogus.end();
  });
});
