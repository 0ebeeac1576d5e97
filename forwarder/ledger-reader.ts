// Reading the committed ledger (read-only): the commit log after a sink's position, the matching events
// of a range with a size estimate (for cutting batches), and the events of one batch or replay. Every
// event query is bounded by ledger_seq (BRIN) and by the commits' occurred_at range (partition pruning).
import type pg from 'pg';
import { isoFromMicros } from '../ledger/chain.ts';
import { type CommitSpan, coveredBounds, type MatchedEvent } from './batch-plan.ts';
import { LEDGER_EVENT_COLUMNS, type LedgerEvent } from './ledger-event.ts';
import { type CompiledRoute, routePredicate } from './route.ts';

export type Queryable = Pick<pg.Pool, 'query'>;

/** Bounds are widened by a millisecond: microsecond epochs round-trip through text exactly, but be safe. */
const BOUND_SLACK_US = 1000;

export interface CommitWindow {
  commits: CommitSpan[];
  /** The ledger head when the commits were read. */
  head: number;
  /** Postgres' clock at the read (commit ages are measured on it, never on ours). */
  nowMs: number;
}

/**
 * Commits holding seqs after `after`, in order, until about `maxEvents` events. The first one may start
 * at or before `after` (a batch can end inside a commit). Index-only on audit_commits' primary key.
 */
export async function commitsAfter(db: Queryable, after: number, maxEvents: number): Promise<CommitWindow> {
  const { rows } = await db.query<{
    first_seq: number;
    last_seq: number;
    event_count: number;
    min_us: number;
    max_us: number;
    committed_ms: number;
    head: number;
    now_ms: number;
  }>(
    `WITH start AS (
       SELECT coalesce(max(first_seq), 0) AS seq FROM audit_commits WHERE first_seq <= $1::bigint + 1
     ), spans AS (
       SELECT c.*, sum(c.event_count) OVER (ORDER BY c.first_seq) AS running
       FROM (SELECT * FROM audit_commits WHERE first_seq >= (SELECT seq FROM start) AND last_seq > $1
             ORDER BY first_seq LIMIT $2) c
     )
     SELECT first_seq, last_seq, event_count,
            (extract(epoch FROM min_occurred_at) * 1000000)::bigint AS min_us,
            (extract(epoch FROM max_occurred_at) * 1000000)::bigint AS max_us,
            (extract(epoch FROM committed_at) * 1000)::bigint AS committed_ms,
            (SELECT last_ledger_seq FROM audit_ledger_state) AS head,
            (extract(epoch FROM now()) * 1000)::bigint AS now_ms
     FROM spans WHERE running - event_count < $3 ORDER BY first_seq`,
    [after, maxEvents, maxEvents],
  );
  let head = rows[0]?.head;
  let nowMs = rows[0]?.now_ms;
  if (head === undefined || nowMs === undefined) {
    const r = await db.query<{ head: number; now_ms: number }>(
      `SELECT last_ledger_seq AS head, (extract(epoch FROM now()) * 1000)::bigint AS now_ms FROM audit_ledger_state`,
    );
    head = r.rows[0]?.head ?? 0;
    nowMs = r.rows[0]?.now_ms ?? Date.now();
  }
  return {
    commits: rows.map((r) => ({
      first: r.first_seq,
      last: r.last_seq,
      minUs: r.min_us,
      maxUs: r.max_us,
      committedAtMs: r.committed_ms,
    })),
    head,
    nowMs,
  };
}

/** Matching events in [from, to] with an estimate of their size on the wire. */
export async function matchingEvents(
  db: Queryable,
  from: number,
  to: number,
  commits: CommitSpan[],
  route: CompiledRoute,
): Promise<MatchedEvent[]> {
  const params: unknown[] = [from, to];
  const where = [
    `ledger_seq BETWEEN $1 AND $2`,
    ...occurredClauses(coveredBounds(commits, from, to), params),
  ];
  const predicate = routePredicate(route, params.length + 1);
  params.push(...predicate.params);
  const { rows } = await db.query<{ seq: number; size: number }>(
    `SELECT ledger_seq AS seq, pg_column_size(e.*) AS size FROM audit_events e
     WHERE ${where.join(' AND ')} ${predicate.sql} ORDER BY ledger_seq`,
    params,
  );
  // formatted events are larger than their stored rows (keys repeated, JSON spelled out, envelope)
  return rows.map((r) => ({ seq: r.seq, bytes: r.size * 2 + 256 }));
}

export interface EventSelection {
  first: number;
  last: number;
  minUs: number | null;
  maxUs: number | null;
  /** Only these seqs (a replay, or what is left of a partly delivered batch). */
  seqs?: readonly number[];
}

/** The events of a batch (route applied) or of a list of seqs (route not applied: they matched before). */
export async function fetchEvents(
  db: Queryable,
  selection: EventSelection,
  route: CompiledRoute | null,
): Promise<LedgerEvent[]> {
  const params: unknown[] = [selection.first, selection.last];
  const where = [
    `ledger_seq BETWEEN $1 AND $2`,
    ...occurredClauses(
      selection.minUs === null || selection.maxUs === null
        ? null
        : { minUs: selection.minUs, maxUs: selection.maxUs },
      params,
    ),
  ];
  if (selection.seqs) {
    params.push(selection.seqs);
    where.push(`ledger_seq = ANY ($${params.length}::bigint[])`);
  }
  const predicate = route ? routePredicate(route, params.length + 1) : { sql: '', params: [] };
  params.push(...predicate.params);
  const { rows } = await db.query<LedgerEvent>(
    `SELECT ${LEDGER_EVENT_COLUMNS} FROM audit_events
     WHERE ${where.join(' AND ')} ${predicate.sql} ORDER BY ledger_seq`,
    params,
  );
  return rows;
}

/** occurred_at conditions (plain comparisons, so the planner prunes partitions), widened by a slack. */
function occurredClauses(bounds: { minUs: number; maxUs: number } | null, params: unknown[]): string[] {
  if (bounds === null) return [];
  params.push(isoFromMicros(bounds.minUs - BOUND_SLACK_US), isoFromMicros(bounds.maxUs + BOUND_SLACK_US));
  return [
    `occurred_at >= $${params.length - 1}::timestamptz`,
    `occurred_at <= $${params.length}::timestamptz`,
  ];
}
