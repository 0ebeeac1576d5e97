// A retention run: under an advisory lock (so overlapping runs are harmless) it keeps daily partitions
// created ahead, and removes each partition wholly past retention after recording its signed tombstone,
// then prunes the removed days from the id registry and records the run as a ledger event.
//
// Each partition is summarised first, without blocking ingestion. The tombstones are then recorded and
// the partitions retired (detached from audit_events: catalog work only) in one
// transaction holding the ledger's commit lock, after re-reading any partition a commit since the
// summaries may have added a late row to; ingestion pauses for that moment only. The retired tables are
// then dropped without the commit lock ("reclaim"), freeing their files, and any a crashed run left
// behind with them.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { COMMIT_LOCK } from './append-batch.ts';
import type { CheckpointSigner } from './checkpoint-key.ts';
import { Errors, LedgerhubError } from './errors.ts';
import { recordMaintenanceRun } from './integrity-self-audit.ts';
import {
  effectivePolicy,
  PARTITION_PATTERN,
  partitionRange,
  partitionsAhead,
  partitionsPastRetention,
  type RetentionPolicy,
  retentionCutoff,
} from './retention-policy.ts';
import { storedRetentionDays } from './retention-settings.ts';
import type { HmacKey } from './stream-codec.ts';
import type { PartitionSummary } from './tombstone.ts';
import {
  recordTombstones,
  type SignedTombstone,
  signTombstone,
  summarisePartition,
  tombstonedPartitions,
  tombstonePayload,
} from './tombstone-store.ts';

/** Caracal's retention lease key ("CARA0002"): its retention job and ours exclude each other. */
export const RETENTION_LOCK = 0x4341_5241_3030_3032n;
/** Partitions retired per transaction (each holds a dozen locks until commit). */
const DROPS_PER_TRANSACTION = 50;
/** lock_not_available: a lock wait ran past lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';
const DEFAULT_LOCK_TIMEOUT_MS = 2000;
/** Retired tables dropped per reclaim transaction (their files are freed at its commit). */
const RECLAIMS_PER_TRANSACTION = 10;

export interface RetentionOptions {
  ceilingDays: number;
  partitionAheadDays: number;
  pruneBatch: number;
  /**
   * How long the retire transaction waits for audit_events' lock (a long COPY holds it) before giving
   * up and trying again; ingestion waits behind that request, so it is kept short. Default 2000 ms.
   */
  lockTimeoutMs?: number;
  /** Attempts per batch of partitions before the run fails with retention_busy (default 3). */
  lockAttempts?: number;
  dryRun?: boolean;
  /** Where the run is recorded as an event; omitted: not recorded (the tombstones still are). */
  selfAudit?: { redis: Redis; stream: string; hmacKey: HmacKey | null; zone: string };
  onProgress?: (line: string) => void;
  /** Called once the partitions are summarised, before the drop transaction takes the commit lock. */
  onPrepared?: (partitions: string[]) => Promise<void> | void;
}

export interface DroppedPartition {
  partition: string;
  day: string;
  event_count: number;
  zones: number;
  tombstone_id: number | null;
}

export interface RetentionReport {
  /** false when another run held the lock; nothing was done. */
  ran: boolean;
  dry_run: boolean;
  policy: RetentionPolicy;
  cutoff: string;
  partitions_created: number;
  /** Partitions dropped (or, in a dry run, that would be). */
  dropped: DroppedPartition[];
  ids_pruned: number;
  /** Retired tables dropped (this run's, and any an interrupted run left). */
  tables_reclaimed: number;
  event_id: string | null;
  /** prepare_ms: partition summaries and tombstone signatures; drop_ms: the retire transactions
   *  (recording the tombstones and detaching, under the commit lock); reclaim_ms: the DROPs of the
   *  retired tables that follow, outside it. */
  timings: { prepare_ms: number; drop_ms: number; reclaim_ms: number; prune_ms: number; total_ms: number };
}

export interface RetentionDeps {
  pool: pg.Pool;
  signer: CheckpointSigner | null;
}

export async function runRetention(deps: RetentionDeps, opts: RetentionOptions): Promise<RetentionReport> {
  const started = performance.now();
  const say = opts.onProgress ?? (() => {});
  const client = await deps.pool.connect();
  try {
    const locked = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      RETENTION_LOCK.toString(),
    ]);
    const stored = await storedRetentionDays(client);
    const policy = effectivePolicy(opts.ceilingDays, stored?.retention_days ?? null);
    const { rows: clock } = await client.query<{ now_ms: number }>(
      'SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms',
    );
    const nowMs = clock[0]!.now_ms;
    const report: RetentionReport = {
      ran: locked.rows[0]?.ok === true,
      dry_run: opts.dryRun === true,
      policy,
      cutoff: retentionCutoff(nowMs, policy.retention_days).toISOString(),
      partitions_created: 0,
      dropped: [],
      ids_pruned: 0,
      tables_reclaimed: 0,
      event_id: null,
      timings: { prepare_ms: 0, drop_ms: 0, reclaim_ms: 0, prune_ms: 0, total_ms: 0 },
    };
    if (!report.ran) {
      say('another retention run holds the lock; nothing to do');
      return finish(report, started);
    }
    try {
      await runLocked(client, deps, opts, report, nowMs, say);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK.toString()]).catch(() => {});
    }
    return finish(report, started);
  } finally {
    client.release();
  }
}

function finish(report: RetentionReport, started: number): RetentionReport {
  report.timings.total_ms = Math.round(performance.now() - started);
  return report;
}

async function runLocked(
  client: pg.PoolClient,
  deps: RetentionDeps,
  opts: RetentionOptions,
  report: RetentionReport,
  nowMs: number,
  say: (line: string) => void,
): Promise<void> {
  if (!opts.dryRun) {
    // tables an earlier run retired but could not reclaim go first, whatever happens to this run
    const t = performance.now();
    report.tables_reclaimed += await reclaimRetired(client, say);
    report.timings.reclaim_ms += performance.now() - t;
  }
  const existing = await listPartitions(client);
  const wanted = partitionsAhead(nowMs, opts.partitionAheadDays);
  if (opts.dryRun) {
    report.partitions_created = wanted.filter((n) => !existing.includes(n)).length;
  } else {
    const { rows } = await client.query<{ created: number }>(
      "SELECT ledgerhub_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, $1) AS created",
      [opts.partitionAheadDays + 2],
    );
    report.partitions_created = rows[0]?.created ?? 0;
  }
  const candidates = partitionsPastRetention(existing, nowMs, report.policy.retention_days);
  if (candidates.length > 0 && !opts.dryRun && deps.signer === null) {
    throw new LedgerhubError(
      Errors.configInvalid,
      `retention: ${candidates.length} partition(s) are past retention, but LEDGERHUB_CHECKPOINT_KEY is not set: ` +
        'a partition is only dropped after its signed tombstone is recorded',
      { key: 'LEDGERHUB_CHECKPOINT_KEY' },
    );
  }
  say(
    `retention ${report.policy.retention_days} day(s) (${report.policy.source}); ${candidates.length} partition(s) past ${report.cutoff}`,
  );

  // first, and before the commit lock: a day dropped before whose partition was created again by hand
  // would otherwise fail inside it, after every candidate had been read
  const again = await tombstonedPartitions(
    client,
    candidates.map((c) => c.name),
  );
  if (again.length > 0) {
    throw new LedgerhubError(
      Errors.retentionRefused,
      `retention: a tombstone is already recorded for ${again.join(', ')}: the day was dropped before ` +
        'and its partition created again by hand. Nothing was removed; move its rows and drop it by hand',
      { partitions: again },
    );
  }
  const prepared: Prepared[] = [];
  const t0 = performance.now();
  const headBefore = await ledgerHead(client);
  for (const { name, day } of candidates)
    prepared.push({ name, day, summary: await summarisePartition(client, name) });
  report.timings.prepare_ms += performance.now() - t0;
  if (!opts.dryRun) await opts.onPrepared?.(prepared.map((p) => p.name));
  if (opts.dryRun) {
    for (const { name, day, summary } of prepared) {
      report.dropped.push({
        partition: name,
        day,
        event_count: summary.count,
        zones: summary.zones().length,
        tombstone_id: null,
      });
      say(`would drop ${name}: ${summary.count} event(s) in ${summary.zones().length} zone(s)`);
    }
  }

  for (let i = 0; !opts.dryRun && i < prepared.length; i += DROPS_PER_TRANSACTION) {
    const chunk = prepared.slice(i, i + DROPS_PER_TRANSACTION);
    // signed (part of the preparation) before the commit lock is taken; re-signed below only if a late
    // commit changed a summary
    const tSign = performance.now();
    const droppedAt = new Date();
    const sign = (p: (typeof chunk)[number]) =>
      signTombstone(deps.signer!, tombstonePayload(p.name, p.summary, report.policy, droppedAt));
    const tombstones = chunk.map(sign);
    const t1 = performance.now();
    report.timings.prepare_ms += t1 - tSign;
    const ids = await retireChunk(
      client,
      { chunk, tombstones, sign, headBefore, retentionDays: report.policy.retention_days },
      opts,
      say,
    );
    for (const [j, p] of chunk.entries()) {
      report.dropped.push({
        partition: p.name,
        day: p.day,
        event_count: p.summary.count,
        zones: tombstones[j]!.payload.zones.length,
        tombstone_id: ids.get(p.name) ?? null,
      });
      say(
        `dropped ${p.name}: ${p.summary.count} event(s) in ${tombstones[j]!.payload.zones.length} zone(s), tombstone recorded`,
      );
    }
    report.timings.drop_ms += performance.now() - t1;
  }

  if (!opts.dryRun) {
    const t3 = performance.now();
    report.tables_reclaimed += await reclaimRetired(client, say);
    report.timings.reclaim_ms += performance.now() - t3;
    const t2 = performance.now();
    report.ids_pruned = await pruneIdRegistry(client, opts.pruneBatch, say);
    report.timings.prune_ms = performance.now() - t2;
  }
  // to 0.1 ms: the retire transaction takes ~15 ms, where whole milliseconds are a 3-6% step
  for (const k of ['prepare_ms', 'drop_ms', 'reclaim_ms', 'prune_ms'] as const)
    report.timings[k] = Math.round(report.timings[k] * 10) / 10;

  if (!opts.dryRun && opts.selfAudit) {
    const a = opts.selfAudit;
    report.event_id = await recordMaintenanceRun(a.redis, a.stream, a.hmacKey, {
      type: 'ledgerhub.retention.run',
      zone: a.zone,
      status: 'complete',
      policy: { ...report.policy },
      metadata: {
        cutoff: report.cutoff,
        partitions_created: report.partitions_created,
        partitions_dropped: report.dropped.map((d) => d.partition),
        tombstone_ids: report.dropped.map((d) => d.tombstone_id),
        events_dropped: report.dropped.reduce((s, d) => s + d.event_count, 0),
        tables_reclaimed: report.tables_reclaimed,
        ids_pruned: report.ids_pruned,
        key_fingerprint: deps.signer?.fingerprint ?? null,
      },
    });
  }
}

interface Prepared {
  name: string;
  day: string;
  summary: PartitionSummary;
}

/** A chunk of partitions to retire: their signed tombstones (re-signed if a late commit changed one). */
interface RetireJob {
  chunk: Prepared[];
  tombstones: SignedTombstone[];
  sign: (p: Prepared) => SignedTombstone;
  /** The ledger head when the summaries were read. */
  headBefore: number;
  retentionDays: number;
}

/**
 * Retires a chunk, retrying while audit_events stays locked (a long export or verify COPY): up to
 * lockAttempts transactions, then retention_busy with nothing of the chunk removed.
 */
async function retireChunk(
  client: pg.ClientBase,
  job: RetireJob,
  opts: RetentionOptions,
  say: (line: string) => void,
): Promise<Map<string, number>> {
  const attempts = opts.lockAttempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await retireOnce(client, job, opts);
    } catch (err) {
      if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw err;
      if (attempt >= attempts) {
        throw new LedgerhubError(
          Errors.retentionBusy,
          `retention: audit_events stayed locked (a long export or verify COPY?) through ${attempts} attempt(s) ` +
            `of ${opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS} ms; nothing of this batch was removed`,
          { partitions: job.chunk.map((p) => p.name) },
          { cause: err },
        );
      }
      say(`audit_events is busy; retrying in ${attempt} s (attempt ${attempt + 1} of ${attempts})`);
      await new Promise((r) => setTimeout(r, attempt * 1000));
    }
  }
}

/**
 * One retire transaction: under the commit lock (ingestion pauses for it), re-summarises any partition
 * a commit since the summaries may have added a late row to, records the signed tombstones and detaches
 * the partitions. Waits for locks at most lockTimeoutMs (SQLSTATE 55P03 after that, nothing changed).
 */
async function retireOnce(
  client: pg.ClientBase,
  { chunk, tombstones, sign, headBefore, retentionDays }: RetireJob,
  opts: RetentionOptions,
): Promise<Map<string, number>> {
  const timeout = Math.max(1, Math.round(opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
  try {
    // one round trip; ingestion pauses from here: no row can reach these partitions until COMMIT. The
    // commits since the summaries were read, if any, may have put late rows into these days.
    const late = await lockAndReadCommitsSince(client, timeout, headBefore);
    for (const [j, p] of chunk.entries()) {
      const { from, to } = partitionRange(p.day);
      if (late.some((c) => c.min < to && c.max >= from)) {
        p.summary = await summarisePartition(client, p.name);
        tombstones[j] = sign(p);
      }
    }
    const ids = await recordTombstones(client, tombstones);
    await retireAndCommit(
      client,
      chunk.map((p) => p.name),
      retentionDays,
    );
    return ids;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * Detaches the partitions and commits in one round trip (simple protocol, so the two statements travel
 * together): the commit lock is held for one network exchange less. The names are checked against the
 * partition pattern here and again by the SECURITY DEFINER function.
 */
async function retireAndCommit(client: pg.ClientBase, names: string[], retentionDays: number): Promise<void> {
  if (!names.every((n) => PARTITION_PATTERN.test(n)) || !Number.isSafeInteger(retentionDays)) {
    throw new Error('retireAndCommit: partition names and an integer retention expected');
  }
  const list = names.map((n) => client.escapeLiteral(n)).join(', ');
  await client.query(`SELECT ledgerhub_retire_partitions(ARRAY[${list}]::text[], ${retentionDays}); COMMIT`);
}

async function ledgerHead(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ s: number }>('SELECT last_ledger_seq AS s FROM audit_ledger_state');
  return rows[0]?.s ?? 0;
}

/**
 * Begins the retire transaction, takes the commit lock (waiting at most timeoutMs) and returns the
 * occurred_at span of every commit after a ledger position (ISO strings compare as instants): one
 * round trip, simple protocol, both numbers are integers this module computed.
 */
async function lockAndReadCommitsSince(
  client: pg.ClientBase,
  timeoutMs: number,
  afterSeq: number,
): Promise<{ min: string; max: string }[]> {
  if (!Number.isSafeInteger(timeoutMs) || !Number.isSafeInteger(afterSeq)) {
    throw new Error('lockAndReadCommitsSince: integers expected');
  }
  const results = (await client.query(
    `BEGIN; SET LOCAL lock_timeout = ${timeoutMs}; SELECT pg_advisory_xact_lock(${COMMIT_LOCK.toString()});
     SELECT to_char(min_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS min,
            to_char(max_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS max
     FROM audit_commits WHERE first_seq > ${afterSeq}`,
  )) as unknown as pg.QueryResult<{ min: string; max: string }>[];
  return results.at(-1)!.rows;
}

export async function listPartitions(db: pg.ClientBase | pg.Pool): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname`,
  );
  return rows.map((r) => r.name).filter((n) => PARTITION_PATTERN.test(n));
}

/** Drops every retired table, a few per transaction; returns how many. */
async function reclaimRetired(client: pg.ClientBase, say: (line: string) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await client.query<{ n: number }>('SELECT ledgerhub_reclaim_retired($1) AS n', [
      RECLAIMS_PER_TRANSACTION,
    ]);
    const n = rows[0]?.n ?? 0;
    if (n === 0) break;
    total += n;
    say(`reclaimed the disk space of ${total} dropped partition(s)`);
  }
  return total;
}

/** Prunes the id registry of every tombstoned day not yet pruned (this run's and any left over). */
async function pruneIdRegistry(
  client: pg.ClientBase,
  batch: number,
  say: (line: string) => void,
): Promise<number> {
  const { rows } = await client.query<{ partition_name: string }>(
    'SELECT partition_name FROM audit_tombstones WHERE ids_pruned_at IS NULL ORDER BY day',
  );
  let total = 0;
  for (const { partition_name } of rows) {
    for (;;) {
      const r = await client.query<{ n: number }>('SELECT ledgerhub_prune_event_ids($1, $2) AS n', [
        partition_name,
        batch,
      ]);
      const n = r.rows[0]?.n ?? 0;
      total += n;
      if (n === 0) break;
    }
    say(`pruned the id registry of ${partition_name}`);
  }
  return total;
}
