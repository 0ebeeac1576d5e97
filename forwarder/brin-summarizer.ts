// Keeps the ledger_seq BRIN index useful for the newest events (see ledgerhub_summarize_ledger_seq in
// migration 0002): the dispatcher reports the occurred-at span of the commits it reads, and at most once
// per interval the page ranges written since are summarized, before batches of them are fetched.

import { isoFromMicros } from '../ledger/chain.ts';
import type { CommitSpan } from './batch-plan.ts';
import type { Queryable } from './ledger-reader.ts';

export const SUMMARIZE_INTERVAL_MS = 1000;

export class BrinSummarizer {
  readonly #db: Queryable;
  readonly #intervalMs: number;
  /** Highest ledger seq whose commit was reported (commits before it need no new summary). */
  #seenThrough = 0;
  #span: { minUs: number; maxUs: number } | null = null;
  #lastRun = 0;
  #running: Promise<void> | undefined;

  constructor(db: Queryable, intervalMs = SUMMARIZE_INTERVAL_MS) {
    this.#db = db;
    this.#intervalMs = intervalMs;
  }

  /** Notes commits the dispatcher is about to plan. */
  note(commits: readonly CommitSpan[]): void {
    for (const c of commits) {
      if (c.last <= this.#seenThrough) continue;
      this.#seenThrough = c.last;
      this.#span = this.#span
        ? { minUs: Math.min(this.#span.minUs, c.minUs), maxUs: Math.max(this.#span.maxUs, c.maxUs) }
        : { minUs: c.minUs, maxUs: c.maxUs };
    }
  }

  /** Summarizes what was noted if the interval has passed (one call at a time; errors are the caller's). */
  async maybeRun(now = Date.now()): Promise<void> {
    if (this.#running) return this.#running;
    const span = this.#span;
    if (span === null || now - this.#lastRun < this.#intervalMs) return;
    this.#span = null;
    this.#lastRun = now;
    this.#running = this.#db
      .query('SELECT ledgerhub_summarize_ledger_seq($1, $2)', [
        isoFromMicros(span.minUs),
        isoFromMicros(span.maxUs),
      ])
      .then(() => undefined)
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }
}
