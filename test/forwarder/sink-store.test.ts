// The durable cursor in Postgres: batches finishing out of order and concurrently move delivered_through
// only over a contiguous run of finished batches; a second dispatcher cannot plan the same range twice;
// dead letters count once however often they are written; replays leave the dead-letter set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedBatch } from '../../forwarder/batch-plan.ts';
import { failure } from '../../forwarder/delivery-failure.ts';
import { SinkStore } from '../../forwarder/sink-store.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('sink-store');
});
afterAll(async () => {
  await fx.close();
});

const batch = (first: number, last: number): PlannedBatch => ({
  first,
  last,
  events: last - first + 1,
  bytes: 0,
  minUs: null,
  maxUs: null,
});
const outcome = (delivered: number) => ({
  delivered,
  deadLettered: 0,
  sha256: 'x',
  receipt: 'test',
  attempts: 1,
});

async function store(name: string): Promise<SinkStore> {
  const s = new SinkStore(fx.db.pool, name);
  await s.register({ type: 'webhook', format: 'caracal', backfill: true });
  return s;
}

describe('the sink cursor in Postgres', () => {
  it('moves only over contiguous finished batches, whatever order they finish in', async () => {
    const s = await store('order');
    expect(await s.planBatches(0, [batch(1, 10), batch(11, 20), batch(21, 30), batch(31, 40)], 45)).toBe(
      true,
    );
    expect(await s.finishBatch(21, outcome(10))).toBe(0);
    expect(await s.finishBatch(11, outcome(10))).toBe(0);
    expect(await s.finishBatch(1, outcome(10))).toBe(30);
    // nothing pending after 40, and 41..45 held no matching event: the cursor reaches enqueued_through
    expect(await s.finishBatch(31, outcome(10))).toBe(45);
    expect(await s.cursor()).toMatchObject({ deliveredThrough: 45, enqueuedThrough: 45, pendingBatches: 0 });
  });

  it('ends at the right place when many batches finish at once', async () => {
    const s = await store('concurrent');
    const batches = Array.from({ length: 20 }, (_, i) => batch(i * 5 + 1, i * 5 + 5));
    await s.planBatches(0, batches, 100);
    const shuffled = [...batches].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((b) => s.finishBatch(b.first, outcome(5))));
    expect(await s.cursor()).toMatchObject({ deliveredThrough: 100, pendingBatches: 0 });
    const { rows } = await fx.db.pool.query(
      'SELECT delivered_events, delivered_batches FROM forwarder_sinks WHERE sink = $1',
      ['concurrent'],
    );
    expect(rows[0]).toEqual({ delivered_events: 100, delivered_batches: 20 });
  });

  it('advances past ranges with no matching event without any batch', async () => {
    const s = await store('empty');
    await s.planBatches(0, [], 500);
    expect(await s.cursor()).toMatchObject({ deliveredThrough: 500, enqueuedThrough: 500 });
  });

  it('refuses a plan made from a stale enqueued_through (a second dispatcher)', async () => {
    const s = await store('race');
    expect(await s.planBatches(0, [batch(1, 10)], 10)).toBe(true);
    expect(await s.planBatches(0, [batch(1, 12)], 12)).toBe(false);
    expect((await s.pendingBatches(10)).map((b) => [b.first, b.last])).toEqual([[1, 10]]);
  });

  it('counts a dead letter once however often it is written, and forgets it when a replay delivers it', async () => {
    const s = await store('dead');
    const letter = {
      seq: 7,
      eventId: 'e7',
      occurredAtUs: 1_700_000_000_000_000,
      batchFirst: 1,
      batchLast: 10,
    };
    expect(await s.deadLetter([{ ...letter, failure: failure('data', 'hec_6', 'bad') }])).toBe(1);
    expect(await s.deadLetter([{ ...letter, failure: failure('data', 'hec_6', 'bad again') }])).toBe(0);
    const { rows } = await fx.db.pool.query(
      'SELECT attempts, error_message FROM forwarder_dead_letters WHERE sink = $1 AND ledger_seq = 7',
      ['dead'],
    );
    expect(rows[0]).toEqual({ attempts: 2, error_message: 'bad again' });
    await s.finishReplay([7]);
    const after = await fx.db.pool.query(
      'SELECT dead_lettered_events, replayed_events FROM forwarder_sinks WHERE sink = $1',
      ['dead'],
    );
    expect(after.rows[0]).toEqual({ dead_lettered_events: 1, replayed_events: 1 });
    expect(
      (await fx.db.pool.query('SELECT 1 FROM forwarder_dead_letters WHERE sink = $1', ['dead'])).rowCount,
    ).toBe(0);
  });

  it('starts a sink added without backfill at the ledger head', async () => {
    await fx.db.pool.query('UPDATE audit_ledger_state SET last_ledger_seq = 1234');
    const s = new SinkStore(fx.db.pool, 'late-joiner');
    await s.register({ type: 'webhook', format: 'caracal', backfill: false });
    expect(await s.cursor()).toMatchObject({ deliveredThrough: 1234, enqueuedThrough: 1234 });
    await fx.db.pool.query('UPDATE audit_ledger_state SET last_ledger_seq = 0');
  });
});
