import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { startWorker } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('two-workers');
});
afterAll(async () => fx.close());

describe('several workers on one stream', () => {
  it('keep every zone chain gapless and valid, and ledger_seq in commit order', async () => {
    const workers = await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        startWorker(fx.workerConfig({ HOSTNAME: `worker-${n}`, AUDIT_BATCH_SIZE: '40' })),
      ),
    );
    const events = realisticEvents(3000, { seed: 31, zones: ['z1', 'z2', 'z3'] });
    for (let i = 0; i < events.length; i += 300)
      await Promise.all(events.slice(i, i + 300).map((e) => fx.xadd(e)));
    await waitFor('all stored', async () => (await fx.storedCount()) === events.length, 60_000);
    await Promise.all(workers.map((w) => w.stop()));

    const shares = workers.map((w) => w.ingestor.storedCount);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(events.length);
    expect(shares.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);

    expect((await verifyLedger(fx.db.pool, { key: fx.key })).faults).toEqual([]);
    const { rows } = await fx.db.pool.query<{ zone_id: string; n: number; max: number }>(
      'SELECT zone_id, count(*)::int AS n, max(chain_seq)::int AS max FROM audit_events GROUP BY zone_id ORDER BY zone_id',
    );
    for (const r of rows) expect(r.max).toBe(r.n);
    // ledger_seq is gapless, and commits are ordered by it: each commit starts right after the previous one
    const commits = await fx.db.pool.query<{ first_seq: number; last_seq: number }>(
      'SELECT first_seq, last_seq FROM audit_commits ORDER BY first_seq',
    );
    let next = 1;
    for (const c of commits.rows) {
      expect(c.first_seq).toBe(next);
      next = c.last_seq + 1;
    }
    expect(next - 1).toBe(events.length);
  });
});
