// The shared event cache: a range read once serves every sink; overlapping ranges read only what is
// missing; the lowest seqs leave first when it is full, and a range evicted meanwhile is read again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerEventCache } from '../../forwarder/event-cache.ts';
import type { Queryable } from '../../forwarder/ledger-reader.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { createForwarderFixture, type ForwarderFixture } from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let queries = 0;
/** The fixture's pool, counting the queries the cache sends. */
const counting = (): Queryable =>
  ({
    query: (...args: unknown[]) => {
      queries += 1;
      return (fx.ledger.db.pool.query as (...a: unknown[]) => unknown).apply(fx.ledger.db.pool, args);
    },
  }) as Queryable;

beforeAll(async () => {
  fx = await createForwarderFixture('event-cache');
  await fx.commit(realisticEvents(300, { seed: 91 }), 100);
});
afterAll(async () => {
  await fx.close();
});

const read = (first: number, last: number) => ({ first, last, minUs: null, maxUs: null });
const seqs = (events: { ledger_seq: number }[]) => events.map((e) => e.ledger_seq);

describe('the shared event cache', () => {
  it('reads a range once for every sink that wants it', async () => {
    const cache = new LedgerEventCache(counting(), 1000);
    queries = 0;
    const [a, b] = await Promise.all([cache.range(read(1, 100)), cache.range(read(1, 100))]);
    expect(seqs(a)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(b).toEqual(a);
    expect(await cache.range(read(20, 40))).toEqual(a.slice(19, 40));
    expect(queries).toBe(1);
  });

  it('reads only the part of an overlapping range it lacks', async () => {
    const cache = new LedgerEventCache(counting(), 1000);
    await cache.range(read(1, 50));
    queries = 0;
    const out = await cache.range(read(30, 120));
    expect(seqs(out)).toEqual(Array.from({ length: 91 }, (_, i) => i + 30));
    expect(queries).toBe(1);
  });

  it('stays under its bound by dropping the lowest seqs, and reads an evicted range again', async () => {
    const cache = new LedgerEventCache(counting(), 100);
    await cache.range(read(1, 100));
    await cache.range(read(101, 200));
    expect(cache.size).toBeLessThanOrEqual(100);
    queries = 0;
    expect(seqs(await cache.range(read(150, 160)))).toEqual(Array.from({ length: 11 }, (_, i) => i + 150));
    expect(queries).toBe(0);
    expect(seqs(await cache.range(read(1, 10)))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(queries).toBe(1);
  });

  it('reads straight through when disabled', async () => {
    const cache = new LedgerEventCache(counting(), 0);
    queries = 0;
    await cache.range(read(1, 10));
    await cache.range(read(1, 10));
    expect(queries).toBe(2);
    expect(cache.size).toBe(0);
  });
});
