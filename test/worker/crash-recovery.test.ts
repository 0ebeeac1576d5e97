import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { startRole } from '../support/role-process.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('crash');
});
afterAll(async () => fx.close());

async function counts() {
  const { rows } = await fx.db.pool.query<{ n: number; ids: number; seqs: number; max: number | null }>(
    'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, count(DISTINCT ledger_seq)::int AS seqs, max(ledger_seq)::int AS max FROM audit_events',
  );
  return rows[0]!;
}

describe('a worker killed at any instant', () => {
  it.each([
    ['restarted under the same consumer name (its own pending list is drained)', 'same'],
    ["replaced by a new consumer (the reaper reclaims the dead one's pending messages)", 'new'],
  ])('loses nothing and duplicates nothing when SIGKILLed mid-stream and %s', async (_label, mode) => {
    await fx.db.pool.query('TRUNCATE audit_events, audit_event_ids, audit_chain_heads, audit_commits');
    await fx.db.pool.query('UPDATE audit_ledger_state SET last_ledger_seq = 0');
    await fx.redis.del(fx.stream, fx.dlqStream);
    const events = realisticEvents(6000, { seed: mode === 'same' ? 77 : 78 });
    for (let i = 0; i < events.length; i += 500)
      await Promise.all(events.slice(i, i + 500).map((e) => fx.xadd(e)));
    const env: Record<string, string> = { ...fx.env, AUDIT_BATCH_SIZE: '100', AUDIT_CLAIM_IDLE_SECS: '1' };

    const first = startRole('worker', env);
    // kill while batches are being stored: some committed, most not
    await waitFor('some batches committed', async () => (await counts()).n >= 300, 60_000, 5);
    first.kill('SIGKILL');
    const { signal } = await first.exited;
    expect(signal).toBe('SIGKILL');
    const atKill = (await counts()).n;
    expect(atKill).toBeLessThan(events.length);

    const second = startRole('worker', mode === 'same' ? env : { ...env, HOSTNAME: `${env.HOSTNAME}-b` });
    await waitFor(
      'all events stored after restart',
      async () => (await counts()).n === events.length,
      90_000,
    );
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    expect(await counts()).toEqual({
      n: events.length,
      ids: events.length,
      seqs: events.length,
      max: events.length,
    });
    const report = await verifyLedger(fx.db.pool, { key: fx.key });
    expect(report.faults).toEqual([]);
    expect(await fx.dlqEntries()).toEqual([]);
    const pending = await fx.redis.xpending(fx.stream, 'audit-ingestor');
    expect(pending[0]).toBe(0);
  });
});
