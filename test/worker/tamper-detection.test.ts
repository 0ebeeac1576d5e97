import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { startWorker } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { startRole } from '../support/role-process.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('tamper');
  const worker = await startWorker(fx.workerConfig());
  for (const e of realisticEvents(300, { seed: 8, zones: ['zone-a', 'zone-b'] })) await fx.xadd(e);
  await waitFor('stored', async () => (await fx.storedCount()) === 300);
  await worker.stop();
});
afterAll(async () => fx.close());

async function runVerify(args: string[] = []) {
  const p = startRole('verify', fx.env, args);
  const { code } = await p.exited;
  return { code, out: p.logs.map((l) => String(l.msg)).join('\n') };
}

describe('ledgerhub verify', () => {
  it('passes an intact ledger with exit code 0', async () => {
    const { code, out } = await runVerify();
    expect(code).toBe(0);
    expect(out).toMatch(/^OK: 300 rows in 2 zone\(s\)/);
  });

  it('names the zone and chain_seq of a row a superuser changed, with exit code 1', async () => {
    await fx.db.pool.query(
      "UPDATE audit_events SET decision = 'allow' WHERE zone_id = 'zone-b' AND chain_seq = 42",
    );
    const { code, out } = await runVerify();
    expect(code).toBe(1);
    expect(out).toMatch(/zone=zone-b chain_seq=42 kind=content_mismatch/);
    const report = await verifyLedger(fx.db.pool, { key: fx.key });
    expect(report.faults.map((f) => [f.zone_id, f.chain_seq, f.kind])).toEqual([
      ['zone-b', 42, 'content_mismatch'],
    ]);
  });

  it('names a deleted row as a chain break after the gap', async () => {
    await fx.db.pool.query("DELETE FROM audit_events WHERE zone_id = 'zone-a' AND chain_seq = 10");
    const report = await verifyLedger(fx.db.pool, { key: fx.key, zone: 'zone-a' });
    expect(report.faults.map((f) => [f.zone_id, f.chain_seq, f.kind])).toEqual([
      ['zone-a', 11, 'chain_break'],
    ]);
  });

  it('names a cut-off tail against the chain head', async () => {
    const { rows } = await fx.db.pool.query<{ max: number }>(
      "SELECT max(chain_seq)::int AS max FROM audit_events WHERE zone_id = 'zone-a'",
    );
    await fx.db.pool.query("DELETE FROM audit_events WHERE zone_id = 'zone-a' AND chain_seq > $1", [
      rows[0]!.max - 3,
    ]);
    const report = await verifyLedger(fx.db.pool, { key: fx.key, zone: 'zone-a' });
    expect(report.faults.at(-1)).toMatchObject({
      zone_id: 'zone-a',
      chain_seq: rows[0]!.max - 2,
      kind: 'tail_truncated',
    });
  });

  it('names a row whose HMAC was written under another key', async () => {
    await fx.db.pool.query(
      "UPDATE audit_events SET chain_hmac = repeat('0', 64) WHERE zone_id = 'zone-b' AND chain_seq = 7",
    );
    const report = await verifyLedger(fx.db.pool, { key: fx.key, zone: 'zone-b' });
    expect(report.faults).toContainEqual(
      expect.objectContaining({ zone_id: 'zone-b', chain_seq: 7, kind: 'hmac_mismatch' }),
    );
  });

  it('prints a machine-readable report with --json', async () => {
    const p = startRole('verify', fx.env, ['--json', '--zone', 'zone-b']);
    await p.exited;
    const json = JSON.parse(
      p.logs
        .map((l) => (typeof l.msg === 'string' && Object.keys(l).length === 1 ? l.msg : JSON.stringify(l)))
        .join('\n'),
    );
    expect(json.ok).toBe(false);
    expect(json.faults[0]).toMatchObject({
      zone_id: 'zone-b',
      kind: expect.any(String),
      chain_seq: expect.any(Number),
    });
  });
});
