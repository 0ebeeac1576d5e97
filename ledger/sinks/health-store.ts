// Sink health and dead letters as the API, the CLI and the operator read them (the ledgerhub_reader role
// suffices), and the two actions on a sink: ask for a replay of its dead letters, re-enable it. Lag is
// computed at read time from the cursor, the ledger head and the commit log, so it is never stale.
import type pg from 'pg';
import { Errors, LedgerhubError } from '../errors.ts';

export type Queryable = Pick<pg.Pool, 'query'>;

export interface SinkError {
  at: string;
  kind: string;
  code: string;
  message: string;
}

export interface SinkHealth {
  name: string;
  type: string;
  format: string;
  /** Configured in the running forwarder. */
  active: boolean;
  /** closed (delivering), open / half_open (paused and probed), disabled (410 Gone). */
  breaker: string;
  disabled: { at: string; reason: string } | null;
  deliveredThrough: number;
  enqueuedThrough: number;
  ledgerHead: number;
  /** Committed events after the cursor. */
  lagEvents: number;
  /** Age of the oldest committed event after the cursor (0 when caught up). */
  lagSeconds: number;
  deliveredEvents: number;
  deliveredBatches: number;
  /** Events in the dead-letter set now. */
  deadLetters: number;
  /** Events ever dead-lettered (replayed ones included). */
  deadLetteredTotal: number;
  replayedEvents: number;
  lastSuccessAt: string | null;
  lastError: SinkError | null;
  updatedAt: string;
}

export interface DeadLetter {
  ledgerSeq: number;
  eventId: string;
  occurredAt: string;
  batch: { firstSeq: number; lastSeq: number };
  error: { kind: string; code: string; message: string };
  attempts: number;
  deadAt: string;
  replayRequestedAt: string | null;
  replayCount: number;
}

export interface DeadLetterPage {
  sink: string;
  deadLetters: DeadLetter[];
  /** Pass as `afterSeq` for the next page; null on the last page. */
  nextAfterSeq: number | null;
}

export const DEAD_LETTER_PAGE_MAX = 1000;
export const REPLAY_MAX = 1_000_000;

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const HEALTH_SQL = `
  SELECT s.sink, s.sink_type, s.format, s.active, s.breaker_state, s.delivered_through, s.enqueued_through,
         l.last_ledger_seq AS head, greatest(l.last_ledger_seq - s.delivered_through, 0) AS lag_events,
         CASE WHEN l.last_ledger_seq > s.delivered_through THEN coalesce(extract(epoch FROM now() - (
           SELECT c.committed_at FROM audit_commits c WHERE c.first_seq <= s.delivered_through + 1
           ORDER BY c.first_seq DESC LIMIT 1)), 0) ELSE 0 END::float8 AS lag_seconds,
         s.delivered_events, s.delivered_batches, s.dead_lettered_events, s.replayed_events,
         (SELECT count(*) FROM forwarder_dead_letters d WHERE d.sink = s.sink) AS dead_letters,
         ${iso('s.last_success_at')} AS last_success_at, ${iso('s.last_error_at')} AS last_error_at,
         s.last_error_kind, s.last_error_code, s.last_error_message,
         ${iso('s.disabled_at')} AS disabled_at, s.disabled_reason, ${iso('s.updated_at')} AS updated_at
  FROM forwarder_sinks s CROSS JOIN audit_ledger_state l`;

interface HealthRow {
  sink: string;
  sink_type: string;
  format: string;
  active: boolean;
  breaker_state: string;
  delivered_through: number;
  enqueued_through: number;
  head: number;
  lag_events: number;
  lag_seconds: number;
  delivered_events: number;
  delivered_batches: number;
  dead_lettered_events: number;
  replayed_events: number;
  dead_letters: number;
  last_success_at: string | null;
  last_error_at: string | null;
  last_error_kind: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  disabled_at: string | null;
  disabled_reason: string | null;
  updated_at: string;
}

function toHealth(r: HealthRow): SinkHealth {
  return {
    name: r.sink,
    type: r.sink_type,
    format: r.format,
    active: r.active,
    breaker: r.breaker_state,
    disabled: r.disabled_at ? { at: r.disabled_at, reason: r.disabled_reason ?? '' } : null,
    deliveredThrough: Number(r.delivered_through),
    enqueuedThrough: Number(r.enqueued_through),
    ledgerHead: Number(r.head),
    lagEvents: Number(r.lag_events),
    lagSeconds: Math.round(Number(r.lag_seconds) * 1000) / 1000,
    deliveredEvents: Number(r.delivered_events),
    deliveredBatches: Number(r.delivered_batches),
    deadLetters: Number(r.dead_letters),
    deadLetteredTotal: Number(r.dead_lettered_events),
    replayedEvents: Number(r.replayed_events),
    lastSuccessAt: r.last_success_at,
    lastError:
      r.last_error_at && r.last_error_kind
        ? {
            at: r.last_error_at,
            kind: r.last_error_kind,
            code: r.last_error_code ?? '',
            message: r.last_error_message ?? '',
          }
        : null,
    updatedAt: r.updated_at,
  };
}

/** Every sink the forwarder has run, by name. */
export async function listSinkHealth(db: Queryable): Promise<SinkHealth[]> {
  const { rows } = await db.query<HealthRow>(`${HEALTH_SQL} ORDER BY s.sink`);
  return rows.map(toHealth);
}

/** One sink's health, or null when no sink has that name. */
export async function getSinkHealth(db: Queryable, name: string): Promise<SinkHealth | null> {
  const { rows } = await db.query<HealthRow>(`${HEALTH_SQL} WHERE s.sink = $1`, [name]);
  return rows[0] ? toHealth(rows[0]) : null;
}

/** A page of a sink's dead letters in ledger order; throws sink_not_found for an unknown sink. */
export async function listDeadLetters(
  db: Queryable,
  name: string,
  opts: { limit?: number; afterSeq?: number } = {},
): Promise<DeadLetterPage> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), DEAD_LETTER_PAGE_MAX);
  await requireSink(db, name);
  const { rows } = await db.query<{
    ledger_seq: number;
    event_id: string;
    occurred_at: string;
    batch_first_seq: number;
    batch_last_seq: number;
    error_kind: string;
    error_code: string;
    error_message: string;
    attempts: number;
    dead_at: string;
    replay_requested_at: string | null;
    replay_count: number;
  }>(
    `SELECT ledger_seq, event_id, ${iso('occurred_at')} AS occurred_at, batch_first_seq, batch_last_seq,
            error_kind, error_code, error_message, attempts, ${iso('dead_at')} AS dead_at,
            ${iso('replay_requested_at')} AS replay_requested_at, replay_count
     FROM forwarder_dead_letters WHERE sink = $1 AND ledger_seq > $2 ORDER BY ledger_seq LIMIT $3`,
    [name, opts.afterSeq ?? 0, limit + 1],
  );
  const page = rows.slice(0, limit).map((r) => ({
    ledgerSeq: Number(r.ledger_seq),
    eventId: r.event_id,
    occurredAt: r.occurred_at,
    batch: { firstSeq: Number(r.batch_first_seq), lastSeq: Number(r.batch_last_seq) },
    error: { kind: r.error_kind, code: r.error_code, message: r.error_message },
    attempts: r.attempts,
    deadAt: r.dead_at,
    replayRequestedAt: r.replay_requested_at,
    replayCount: r.replay_count,
  }));
  return {
    sink: name,
    deadLetters: page,
    nextAfterSeq: rows.length > limit ? (page.at(-1)?.ledgerSeq ?? null) : null,
  };
}

/**
 * Asks the forwarder to deliver up to `limit` of a sink's dead letters again (oldest first); returns
 * how many were asked for. A dead letter refused again returns to the set with the new error.
 */
export async function requestReplay(
  db: Queryable,
  name: string,
  opts: { limit?: number } = {},
): Promise<number> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? REPLAY_MAX), 1), REPLAY_MAX);
  const { rows } = await db.query<{ n: number | null }>('SELECT ledgerhub_sink_request_replay($1, $2) AS n', [
    name,
    limit,
  ]);
  const n = rows[0]?.n;
  if (n === null || n === undefined) throw notFound(name);
  return n;
}

/** Re-enables a sink disabled by 410 Gone; the forwarder resumes delivering to it. */
export async function enableSink(db: Queryable, name: string): Promise<void> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT ledgerhub_sink_enable($1) AS ok', [name]);
  if (!rows[0]?.ok) throw notFound(name);
}

async function requireSink(db: Queryable, name: string): Promise<void> {
  const { rowCount } = await db.query('SELECT 1 FROM forwarder_sinks WHERE sink = $1', [name]);
  if (!rowCount) throw notFound(name);
}

function notFound(name: string): LedgerhubError {
  return new LedgerhubError(Errors.sinkNotFound, `no sink named ${name}`, { sink: name });
}
