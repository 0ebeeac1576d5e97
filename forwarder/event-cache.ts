// Committed events read once and shared by every sink: sinks follow the same ledger a few batches apart,
// so a range one sink's batch read is usually what the next sink wants moments later. A bounded cache
// by ledger seq, filled by range reads without a route (each sink applies its own); the lowest seqs
// leave first. Ledger rows never change, so a cached event is never stale.
import type { LedgerEvent } from './ledger-event.ts';
import { fetchEvents, type Queryable } from './ledger-reader.ts';

export interface RangeRead {
  first: number;
  last: number;
  minUs: number | null;
  maxUs: number | null;
}

export class LedgerEventCache {
  readonly #db: Queryable;
  readonly #maxEvents: number;
  readonly #events = new Map<number, LedgerEvent>();
  /** Disjoint, sorted seq intervals read completely (every committed event in them is in #events). */
  #covered: [number, number][] = [];
  readonly #loading = new Map<string, Promise<void>>();

  constructor(db: Queryable, maxEvents: number) {
    this.#db = db;
    this.#maxEvents = maxEvents;
  }

  get size(): number {
    return this.#events.size;
  }

  /** Every committed event in [first, last], in ledger order (no route applied). */
  async range(read: RangeRead): Promise<LedgerEvent[]> {
    if (this.#maxEvents === 0) return fetchEvents(this.#db, read, null);
    await Promise.all(this.#missing(read.first, read.last).map(([a, b]) => this.#load(a, b, read)));
    const out: LedgerEvent[] = [];
    for (let seq = read.first; seq <= read.last; seq++) {
      const e = this.#events.get(seq);
      if (e) out.push(e);
    }
    // evicted while we waited (a burst of other reads): read directly
    if (!this.#isCovered(read.first, read.last)) return fetchEvents(this.#db, read, null);
    return out;
  }

  #load(first: number, last: number, bounds: RangeRead): Promise<void> {
    const key = `${first}-${last}`;
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = fetchEvents(this.#db, { first, last, minUs: bounds.minUs, maxUs: bounds.maxUs }, null)
        .then((events) => {
          for (const e of events) this.#events.set(e.ledger_seq, e);
          this.#cover(first, last);
          this.#evict(first, last);
        })
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  /** Sub-intervals of [first, last] not read yet. */
  #missing(first: number, last: number): [number, number][] {
    const out: [number, number][] = [];
    let next = first;
    for (const [a, b] of this.#covered) {
      if (b < next) continue;
      if (a > last) break;
      if (a > next) out.push([next, a - 1]);
      next = Math.max(next, b + 1);
      if (next > last) break;
    }
    if (next <= last) out.push([next, last]);
    return out;
  }

  #isCovered(first: number, last: number): boolean {
    return this.#missing(first, last).length === 0;
  }

  #cover(first: number, last: number): void {
    const merged: [number, number][] = [];
    let added: [number, number] = [first, last];
    for (const iv of this.#covered) {
      if (iv[1] < added[0] - 1) merged.push(iv);
      else if (iv[0] > added[1] + 1) {
        merged.push(added);
        added = iv;
      } else added = [Math.min(iv[0], added[0]), Math.max(iv[1], added[1])];
    }
    merged.push(added);
    this.#covered = merged;
  }

  /** Drops the lowest seqs outside [keepFirst, keepLast] (just read) until back under the bound. */
  #evict(keepFirst: number, keepLast: number): void {
    let i = 0;
    while (this.#events.size > this.#maxEvents && i < this.#covered.length) {
      const iv = this.#covered[i]!;
      if (iv[1] >= keepFirst && iv[0] <= keepLast) {
        // the interval holding what was just read: only what lies below it may go
        if (iv[0] < keepFirst) this.#dropBelow(iv, keepFirst - 1);
        i += 1;
        continue;
      }
      this.#dropBelow(iv, iv[1]);
      if (iv[0] > iv[1]) this.#covered.splice(i, 1);
      else i += 1;
    }
  }

  /** Removes seqs from the start of `iv` up to `until` (or fewer, once under the bound); shrinks `iv`. */
  #dropBelow(iv: [number, number], until: number): void {
    while (iv[0] <= until && this.#events.size > this.#maxEvents) {
      this.#events.delete(iv[0]);
      iv[0] += 1;
    }
  }
}
