// One sink's durable state in Postgres: its cursor row, the batch plan (pending batches are work in
// flight, finished ones are receipts), dead letters and replays. Planning and finishing a batch lock the
// sink's row first, so the cursor moves under one writer at a time and only over finished batches.
import type pg from 'pg';
import { isoFromMicros } from '../ledger/chain.ts';
import type { PlannedBatch } from './batch-plan.ts';
import type { BreakerState } from './breaker.ts';
import { advanceCursor } from './cursor.ts';
import type { DeliveryFailure } from './delivery-failure.ts';

export interface SinkCursor {
  deliveredThrough: number;
  enqueuedThrough: number;
  pendingBatches: number;
  disabled: boolean;
}

export interface PendingBatch {
  first: number;
  last: number;
  minUs: number | null;
  maxUs: number | null;
}

export interface BatchOutcome {
  delivered: number;
  deadLettered: number;
  sha256: string;
  receipt: string;
  attempts: number;
}

export interface NewDeadLetter {
  seq: number;
  eventId: string;
  occurredAtUs: number;
  batchFirst: number;
  batchLast: number;
  failure: DeliveryFailure;
}

export interface ReplayGroup {
  jobId: string;
  seqs: number[];
  minUs: number;
  maxUs: number;
}

const US = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint`;

/** An integer as SQL text (for statements sent as one multi-statement string). */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

export class SinkStore {
  readonly sink: string;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool, sink: string) {
    this.#pool = pool;
    this.sink = sink;
  }

  /** Creates or refreshes the sink's row; a new sink without backfill starts at the ledger head. */
  async register(info: { type: string; format: string; backfill: boolean }): Promise<void> {
    await this.#pool.query(
      `INSERT INTO forwarder_sinks (sink, sink_type, format, delivered_through, enqueued_through)
       SELECT $1, $2, $3, h.seq, h.seq
       FROM (SELECT CASE WHEN $4::boolean THEN 0 ELSE last_ledger_seq END AS seq FROM audit_ledger_state) h
       ON CONFLICT (sink) DO UPDATE
         SET sink_type = EXCLUDED.sink_type, format = EXCLUDED.format, active = true, updated_at = now()`,
      [this.sink, info.type, info.format, info.backfill],
    );
  }

  /** Marks every sink not in `active` as no longer configured (health keeps showing it as inactive). */
  static async deactivateOthers(pool: pg.Pool, active: string[]): Promise<void> {
    await pool.query(
      'UPDATE forwarder_sinks SET active = false, updated_at = now() WHERE active AND NOT (sink = ANY ($1::text[]))',
      [active],
    );
  }

  async cursor(): Promise<SinkCursor> {
    const { rows } = await this.#pool.query<{
      delivered_through: number;
      enqueued_through: number;
      pending: number;
      disabled: boolean;
    }>(
      `SELECT delivered_through, enqueued_through, disabled_at IS NOT NULL AS disabled,
              (SELECT count(*)::int FROM forwarder_batches b WHERE b.sink = s.sink AND b.state = 'pending') AS pending
       FROM forwarder_sinks s WHERE sink = $1`,
      [this.sink],
    );
    const r = rows[0];
    if (!r) throw new Error(`sink ${this.sink} is not registered`);
    return {
      deliveredThrough: r.delivered_through,
      enqueuedThrough: r.enqueued_through,
      pendingBatches: r.pending,
      disabled: r.disabled,
    };
  }

  async pendingBatches(limit: number): Promise<PendingBatch[]> {
    const { rows } = await this.#pool.query<{
      first: number;
      last: number;
      min_us: number | null;
      max_us: number | null;
    }>(
      `SELECT first_seq AS first, last_seq AS last, ${US('min_occurred_at')} AS min_us, ${US('max_occurred_at')} AS max_us
       FROM forwarder_batches WHERE sink = $1 AND state = 'pending' ORDER BY first_seq LIMIT $2`,
      [this.sink, limit],
    );
    return rows.map((r) => ({ first: r.first, last: r.last, minUs: r.min_us, maxUs: r.max_us }));
  }

  async isPending(first: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `SELECT 1 FROM forwarder_batches WHERE sink = $1 AND first_seq = $2 AND state = 'pending'`,
      [this.sink, first],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Records planned batches and the new enqueued_through in one transaction; false (nothing written)
   * when another dispatcher moved enqueued_through since `expectedThrough` was read.
   */
  async planBatches(expectedThrough: number, batches: PlannedBatch[], through: number): Promise<boolean> {
    return this.#transaction(async (c) => {
      const locked = await this.#lock(c);
      if (locked.enqueued_through !== expectedThrough) return false;
      if (batches.length > 0) {
        await c.query(
          `INSERT INTO forwarder_batches (sink, first_seq, last_seq, event_count, min_occurred_at, max_occurred_at)
           SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::int[], $5::timestamptz[], $6::timestamptz[])`,
          [
            this.sink,
            batches.map((b) => b.first),
            batches.map((b) => b.last),
            batches.map((b) => b.events),
            batches.map((b) => (b.minUs === null ? null : isoFromMicros(b.minUs))),
            batches.map((b) => (b.maxUs === null ? null : isoFromMicros(b.maxUs))),
          ],
        );
      }
      const firstPending = await this.#firstPending(c);
      await c.query(
        `UPDATE forwarder_sinks SET enqueued_through = $2, delivered_through = $3, updated_at = now() WHERE sink = $1`,
        [this.sink, through, advanceCursor(locked.delivered_through, through, firstPending)],
      );
      return true;
    });
  }

  /**
   * Marks a batch finished and moves the cursor over every finished batch before the first pending one.
   * Two round trips: lock the sink's row, mark the batch and read the first pending batch; then move the
   * cursor and commit (every statement after the lock sees every batch committed before it).
   */
  async finishBatch(first: number, outcome: BatchOutcome): Promise<number> {
    const c = await this.#pool.connect();
    const sink = c.escapeLiteral(this.sink);
    try {
      const results = (await c.query(
        `BEGIN;
         SELECT delivered_through, enqueued_through FROM forwarder_sinks WHERE sink = ${sink} FOR UPDATE;
         UPDATE forwarder_batches
            SET state = 'delivered', delivered_count = ${int(outcome.delivered)}, dead_count = ${int(outcome.deadLettered)},
                batch_sha256 = ${c.escapeLiteral(outcome.sha256)}, receipt = ${c.escapeLiteral(outcome.receipt)},
                attempts = ${int(outcome.attempts)}, finished_at = now()
          WHERE sink = ${sink} AND first_seq = ${int(first)} AND state = 'pending';
         SELECT min(first_seq) AS first FROM forwarder_batches WHERE sink = ${sink} AND state = 'pending'`,
      )) as unknown as pg.QueryResult[];
      const locked = results[1]?.rows[0] as
        | { delivered_through: number; enqueued_through: number }
        | undefined;
      if (!locked) throw new Error(`sink ${this.sink} is not registered`);
      const finished = (results[2]?.rowCount ?? 0) > 0;
      const firstPending = (results[3]?.rows[0] as { first: number | null } | undefined)?.first ?? null;
      const cursor = advanceCursor(locked.delivered_through, locked.enqueued_through, firstPending);
      const delivered = finished ? outcome.delivered : 0;
      await c.query(
        `UPDATE forwarder_sinks
            SET delivered_through = ${int(cursor)}, delivered_events = delivered_events + ${int(delivered)},
                delivered_batches = delivered_batches + ${finished ? 1 : 0},
                last_success_at = ${delivered > 0 ? 'now()' : 'last_success_at'}, updated_at = now()
          WHERE sink = ${sink};
         COMMIT`,
      );
      return cursor;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Stores dead letters (a refused replay becomes dead again); returns how many are new. */
  async deadLetter(letters: NewDeadLetter[]): Promise<number> {
    if (letters.length === 0) return 0;
    const { rows } = await this.#pool.query<{ inserted: boolean }>(
      `INSERT INTO forwarder_dead_letters AS d (sink, ledger_seq, event_id, occurred_at, batch_first_seq,
         batch_last_seq, error_kind, error_code, error_message)
       SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::bigint[], $6::bigint[],
         $7::text[], $8::text[], $9::text[])
       ON CONFLICT (sink, ledger_seq) DO UPDATE
         SET error_kind = EXCLUDED.error_kind, error_code = EXCLUDED.error_code,
             error_message = EXCLUDED.error_message, attempts = d.attempts + 1, dead_at = now(),
             replay_requested_at = NULL, replay_job = NULL
       RETURNING (xmax = 0) AS inserted`,
      [
        this.sink,
        letters.map((l) => l.seq),
        letters.map((l) => l.eventId),
        letters.map((l) => isoFromMicros(l.occurredAtUs)),
        letters.map((l) => l.batchFirst),
        letters.map((l) => l.batchLast),
        letters.map((l) => l.failure.kind),
        letters.map((l) => l.failure.code),
        letters.map((l) => l.failure.message),
      ],
    );
    const inserted = rows.filter((r) => r.inserted).length;
    const last = letters.at(-1)!.failure;
    await this.#pool.query(
      `UPDATE forwarder_sinks
          SET dead_lettered_events = dead_lettered_events + $2, last_error_at = now(), last_error_kind = $3,
              last_error_code = $4, last_error_message = $5, updated_at = now()
        WHERE sink = $1`,
      [this.sink, inserted, last.kind, last.code, last.message],
    );
    return inserted;
  }

  async recordError(f: DeliveryFailure): Promise<void> {
    await this.#pool.query(
      `UPDATE forwarder_sinks SET last_error_at = now(), last_error_kind = $2, last_error_code = $3,
         last_error_message = $4, updated_at = now() WHERE sink = $1`,
      [this.sink, f.kind, f.code, f.message],
    );
  }

  async setBreaker(state: BreakerState): Promise<void> {
    await this.#pool.query(
      'UPDATE forwarder_sinks SET breaker_state = $2, updated_at = now() WHERE sink = $1 AND breaker_state <> $2',
      [this.sink, state],
    );
  }

  /** 410 Gone: the sink stays disabled (and says why in its health) until ledgerhub_sink_enable. */
  async disable(f: DeliveryFailure): Promise<void> {
    await this.#pool.query(
      `UPDATE forwarder_sinks SET disabled_at = coalesce(disabled_at, now()), disabled_reason = $2,
         breaker_state = 'disabled', last_error_at = now(), last_error_kind = $3, last_error_code = $4,
         last_error_message = $2, updated_at = now() WHERE sink = $1`,
      [this.sink, f.message, f.kind, f.code],
    );
  }

  /** Dead letters asked to be replayed and not yet given a job, oldest first. */
  async replayRequests(limit: number): Promise<{ seq: number; occurredUs: number }[]> {
    const { rows } = await this.#pool.query<{ seq: number; occurred_us: number }>(
      `SELECT ledger_seq AS seq, ${US('occurred_at')} AS occurred_us FROM forwarder_dead_letters
       WHERE sink = $1 AND replay_requested_at IS NOT NULL AND replay_job IS NULL ORDER BY ledger_seq LIMIT $2`,
      [this.sink, limit],
    );
    return rows.map((r) => ({ seq: r.seq, occurredUs: r.occurred_us }));
  }

  async assignReplay(seqs: number[], jobId: string): Promise<void> {
    await this.#pool.query(
      `UPDATE forwarder_dead_letters SET replay_job = $3, replay_count = replay_count + 1
       WHERE sink = $1 AND ledger_seq = ANY ($2::bigint[]) AND replay_requested_at IS NOT NULL`,
      [this.sink, seqs, jobId],
    );
  }

  /** Replay jobs handed out and not finished (to re-enqueue after Redis lost them). */
  async replaysInFlight(): Promise<ReplayGroup[]> {
    const { rows } = await this.#pool.query<{ job: string; seqs: number[]; min_us: number; max_us: number }>(
      `SELECT replay_job AS job, array_agg(ledger_seq ORDER BY ledger_seq) AS seqs,
              min(${US('occurred_at')}) AS min_us, max(${US('occurred_at')}) AS max_us
       FROM forwarder_dead_letters WHERE sink = $1 AND replay_job IS NOT NULL GROUP BY replay_job`,
      [this.sink],
    );
    return rows.map((r) => ({ jobId: r.job, seqs: r.seqs.map(Number), minUs: r.min_us, maxUs: r.max_us }));
  }

  /** Replayed dead letters the sink took leave the dead-letter set. */
  async finishReplay(accepted: number[]): Promise<void> {
    if (accepted.length === 0) return;
    await this.#transaction(async (c) => {
      const { rowCount } = await c.query(
        'DELETE FROM forwarder_dead_letters WHERE sink = $1 AND ledger_seq = ANY ($2::bigint[])',
        [this.sink, accepted],
      );
      await c.query(
        `UPDATE forwarder_sinks SET replayed_events = replayed_events + $2, delivered_events = delivered_events + $2,
           last_success_at = now(), updated_at = now() WHERE sink = $1`,
        [this.sink, rowCount ?? 0],
      );
    });
  }

  /** Finished batches older than `days` (and behind the cursor) are forgotten; returns how many. */
  async pruneReceipts(days: number): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM forwarder_batches b USING forwarder_sinks s
       WHERE b.sink = $1 AND s.sink = b.sink AND b.state <> 'pending' AND b.last_seq <= s.delivered_through
         AND b.finished_at < now() - make_interval(days => $2)`,
      [this.sink, days],
    );
    return rowCount ?? 0;
  }

  async #lock(c: pg.PoolClient): Promise<{ delivered_through: number; enqueued_through: number }> {
    const { rows } = await c.query<{ delivered_through: number; enqueued_through: number }>(
      'SELECT delivered_through, enqueued_through FROM forwarder_sinks WHERE sink = $1 FOR UPDATE',
      [this.sink],
    );
    if (!rows[0]) throw new Error(`sink ${this.sink} is not registered`);
    return rows[0];
  }

  async #firstPending(c: pg.PoolClient): Promise<number | null> {
    const { rows } = await c.query<{ first: number | null }>(
      `SELECT min(first_seq) AS first FROM forwarder_batches WHERE sink = $1 AND state = 'pending'`,
      [this.sink],
    );
    return rows[0]?.first ?? null;
  }

  async #transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
}
