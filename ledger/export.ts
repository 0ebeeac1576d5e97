// An export run for one destination: every completed hour after the watermark, in order. An hour's
// objects hold the commits (ledger_seq range) that began before the hour ended and were not exported
// yet, so a commit that finishes late lands in the next object and nothing is skipped or repeated.
// Hours go in batches: the batch's plan is saved first, its rows are streamed in commit order with one
// COPY, each object is written with If-None-Match (never overwriting) before its signed manifest, and
// the watermark moves only once every object of the batch is durable. Writes overlap the encoding of
// the next hour. New checkpoints and tombstones are exported beside the objects.
import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { CheckpointSigner } from './checkpoint-key.ts';
import type { ExportFormatName } from './config/maintenance.ts';
import { Errors, LedgerhubError } from './errors.ts';
import { contentDifference } from './export-adopt.ts';
import { type ExportDestination, FileDestination } from './export-destination.ts';
import type { EncodedUnit } from './export-encode.ts';
import { ExportEncoders } from './export-encoders.ts';
import {
  type CommitHour,
  checkpointKey,
  type ExportUnit,
  FORMATS,
  HOUR_MS,
  hourStart,
  MANIFEST_SUFFIX,
  objectKey,
  planUnits,
  tombstoneKey,
} from './export-plan.ts';
import { CopyUnitSplitter } from './export-split.ts';
import {
  advanceEvidence,
  completeUnits,
  type ExportWatermark,
  loadWatermark,
  savePending,
  type WrittenObject,
} from './export-watermark.ts';
import type { MaintenanceMetrics } from './integrity-metrics.ts';
import { copyChunksOut, EXPORT_COPY_COLUMNS } from './integrity-row-stream.ts';
import { recordMaintenanceRun } from './integrity-self-audit.ts';
import { signDocument } from './integrity-signature.ts';
import { manifestPayload, objectDigest } from './manifest.ts';
import { sha256Hex } from './s3-sigv4.ts';
import type { HmacKey } from './stream-codec.ts';

/** Advisory-lock class for exports; the second key is hashtext(destination name). */
const EXPORT_LOCK_CLASS = 0x4c48_4558; // "LHEX"
/** Events (ledger_seq values) planned per batch: one saved plan, one COPY, one completing transaction. */
const BATCH_EVENTS = 100_000;
/** Units being encoded or written while the COPY reads on (bounds memory). */
const UNITS_IN_FLIGHT = 4;
/** Encoding threads by default: the COPY, Postgres and the writes keep the rest of a small node busy. */
const DEFAULT_ENCODE_THREADS = Math.max(1, Math.min(2, availableParallelism()));

export interface ExportOptions {
  formats: ExportFormatName[];
  prefix: string;
  graceSecs: number;
  maxHours: number;
  maxObjectEvents: number;
  gzipLevel: number;
  /** Threads that parse and encode units (0: on the main thread); DEFAULT_ENCODE_THREADS if unset. */
  encodeThreads?: number;
  /** Heap of each encoding thread, MB (AUDIT_EXPORT_THREAD_HEAP_MB). */
  encodeHeapMb?: number;
  dryRun?: boolean;
  selfAudit?: { redis: Redis; stream: string; hmacKey: HmacKey | null; zone: string };
  onProgress?: (line: string) => void;
}

export interface ExportDeps {
  pool: pg.Pool;
  destination: ExportDestination;
  signer: CheckpointSigner | null;
  metrics?: MaintenanceMetrics;
}

export interface ExportedHour {
  hour: string;
  events: number;
  after_seq: number;
  last_seq: number;
  objects: string[];
}

export interface ExportReport {
  destination: string;
  /** false when another export to this destination held the lock. */
  ran: boolean;
  dry_run: boolean;
  hours: ExportedHour[];
  events: number;
  objects_written: number;
  /** Objects found already written with identical bytes (a re-run after a crash). */
  objects_existing: number;
  evidence_written: number;
  backlog_hours: number;
  event_id: string | null;
  duration_ms: number;
}

export async function runExport(deps: ExportDeps, opts: ExportOptions): Promise<ExportReport> {
  const started = performance.now();
  if (deps.signer === null && !opts.dryRun) {
    throw new LedgerhubError(
      Errors.configInvalid,
      'export: LEDGERHUB_CHECKPOINT_KEY is required (every object ships with a signed manifest)',
      { key: 'LEDGERHUB_CHECKPOINT_KEY' },
    );
  }
  const report: ExportReport = {
    destination: deps.destination.name,
    ran: false,
    dry_run: opts.dryRun === true,
    hours: [],
    events: 0,
    objects_written: 0,
    objects_existing: 0,
    evidence_written: 0,
    backlog_hours: 0,
    event_id: null,
    duration_ms: 0,
  };
  const client = await deps.pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      [EXPORT_LOCK_CLASS, deps.destination.name],
    );
    report.ran = rows[0]?.ok === true;
    if (!report.ran) {
      opts.onProgress?.(`another export to ${deps.destination.name} is running; nothing to do`);
      return report;
    }
    try {
      await exportLocked(client, deps, opts, report);
    } catch (err) {
      deps.metrics?.exportErrors.inc();
      throw err;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [
        EXPORT_LOCK_CLASS,
        deps.destination.name,
      ]);
    }
  } finally {
    client.release();
    report.duration_ms = Math.round(performance.now() - started);
  }
  return report;
}

async function exportLocked(
  client: pg.PoolClient,
  deps: ExportDeps,
  opts: ExportOptions,
  report: ExportReport,
): Promise<void> {
  const say = opts.onProgress ?? (() => {});
  if (deps.destination instanceof FileDestination && !opts.dryRun) {
    const removed = await deps.destination.removeTemporaryFiles();
    if (removed > 0) say(`removed ${removed} temporary file(s) left by an interrupted run`);
  }
  const wm = await loadWatermark(client, deps.destination.name);
  const { rows: clock } = await client.query<{ now_ms: number }>(
    'SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms',
  );
  const lastComplete = hourStart(clock[0]!.now_ms - opts.graceSecs * 1000) - HOUR_MS;

  let hoursLeft = opts.maxHours;
  // started with the first batch to write, ended with the run
  let encoders: ExportEncoders | null = null;
  try {
    while (hoursLeft > 0) {
      const resumed = wm.pending !== null;
      const units =
        wm.pending ??
        planUnits(await commitHours(client, wm.lastSeq, lastComplete), wm, {
          lastComplete,
          maxHours: hoursLeft,
          maxObjectEvents: opts.maxObjectEvents,
          batchEvents: BATCH_EVENTS,
        });
      if (units.length === 0) break;
      hoursLeft -= new Set(units.map((u) => u.hourMs)).size;
      if (opts.dryRun) {
        await describeDryRun(client, units, report, say);
        const last = units.at(-1)!;
        wm.lastHourMs = last.hourMs;
        wm.lastSeq = last.lastSeq;
        continue;
      }
      if (resumed) say(`resuming ${units.length} planned object(s) from an interrupted run`);
      else await savePending(client, wm, units);
      const t0 = performance.now();
      encoders ??= new ExportEncoders(opts.encodeThreads ?? DEFAULT_ENCODE_THREADS, {
        oldSpaceMb: opts.encodeHeapMb,
      });
      const written = await writeUnits(client, deps, opts, encoders, units, report);
      await deps.destination.flush();
      await completeUnits(client, wm, units.at(-1)!, written);
      deps.metrics?.exportDuration.observe((performance.now() - t0) / 1000);
      for (const h of hoursOf(units, written)) {
        report.hours.push(h);
        report.events += h.events;
        deps.metrics?.exportEvents.inc(h.events);
        say(`exported ${h.hour}: ${h.events} event(s) in ${h.objects.length} object(s)`);
      }
    }
  } finally {
    await encoders?.close();
  }
  report.backlog_hours = Math.max(0, Math.round((lastComplete - (wm.lastHourMs ?? lastComplete)) / HOUR_MS));
  deps.metrics?.exportBacklogHours.set(report.backlog_hours);
  if (opts.dryRun) return;

  report.evidence_written = await exportEvidence(client, deps.destination, opts.prefix, wm);
  if (opts.selfAudit && report.hours.length > 0) {
    const a = opts.selfAudit;
    report.event_id = await recordMaintenanceRun(a.redis, a.stream, a.hmacKey, {
      type: 'ledgerhub.export.run',
      zone: a.zone,
      status: 'complete',
      policy: { destination: deps.destination.name, formats: opts.formats },
      metadata: {
        hours: report.hours.length,
        first_hour: report.hours[0]?.hour ?? null,
        last_hour: report.hours.at(-1)?.hour ?? null,
        events: report.events,
        objects_written: report.objects_written,
        objects_existing: report.objects_existing,
        ledger_seq_last: wm.lastSeq,
        key_fingerprint: deps.signer?.fingerprint ?? null,
      },
    });
  }
}

/** Per hour in which commits after the watermark began (UTC), the highest last_seq. */
async function commitHours(
  client: pg.ClientBase,
  afterSeq: number,
  lastComplete: number,
): Promise<CommitHour[]> {
  const { rows } = await client.query<{ hour_ms: number; max_last: number }>(
    `SELECT (extract(epoch FROM date_trunc('hour', committed_at AT TIME ZONE 'UTC')) * 1000)::bigint AS hour_ms,
            max(last_seq) AS max_last
     FROM audit_commits WHERE first_seq > $1 AND committed_at < $2 GROUP BY 1 ORDER BY 1`,
    [afterSeq, new Date(lastComplete + HOUR_MS).toISOString()],
  );
  return rows.map((r) => ({ hourMs: r.hour_ms, maxLastSeq: r.max_last }));
}

async function describeDryRun(
  client: pg.ClientBase,
  units: ExportUnit[],
  report: ExportReport,
  say: (line: string) => void,
): Promise<void> {
  for (const u of units) {
    const { rows } = await client.query<{ n: number }>(
      'SELECT coalesce(sum(event_count), 0)::bigint AS n FROM audit_commits WHERE first_seq > $1 AND last_seq <= $2',
      [u.afterSeq, u.lastSeq],
    );
    const hour = new Date(u.hourMs).toISOString();
    const prev = report.hours.at(-1);
    if (prev && prev.hour === hour) {
      prev.events += rows[0]!.n;
      prev.last_seq = u.lastSeq;
    } else
      report.hours.push({
        hour,
        events: rows[0]!.n,
        after_seq: u.afterSeq,
        last_seq: u.lastSeq,
        objects: [],
      });
    say(`would export ${hour} part ${u.part}/${u.parts}: ledger_seq (${u.afterSeq}, ${u.lastSeq}]`);
  }
}

function hoursOf(units: ExportUnit[], written: WrittenObject[]): ExportedHour[] {
  const out: ExportedHour[] = [];
  for (const u of units) {
    const hour = new Date(u.hourMs).toISOString();
    const objects = written.filter((w) => w.hourMs === u.hourMs && w.afterSeq === u.afterSeq);
    const events = objects[0]?.events ?? 0;
    const prev = out.at(-1);
    if (prev && prev.hour === hour) {
      prev.events += events;
      prev.last_seq = u.lastSeq;
      prev.objects.push(...objects.map((o) => o.key));
    } else
      out.push({
        hour,
        events,
        after_seq: u.afterSeq,
        last_seq: u.lastSeq,
        objects: objects.map((o) => o.key),
      });
  }
  return out;
}

/**
 * Streams the batch's rows in commit order with one COPY, hands each unit's COPY text to the encoding
 * threads as soon as the unit is complete, and writes its objects while later units are read and
 * encoded.
 */
async function writeUnits(
  client: pg.ClientBase,
  deps: ExportDeps,
  opts: ExportOptions,
  encoders: ExportEncoders,
  units: ExportUnit[],
  report: ExportReport,
): Promise<WrittenObject[]> {
  const written: WrittenObject[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const settings = { formats: opts.formats, gzipLevel: opts.gzipLevel };
  const splitter = new CopyUnitSplitter(units, (i, text) => {
    // after a failure the rest of the batch is still read (the COPY must run to its end) but not written
    if (text.length === 0 || failure !== null) return;
    const unit = units[i]!;
    const endEncode = deps.metrics?.exportEncodeDuration.startTimer();
    const p = encoders
      .encode(text, unit, settings)
      .then((encoded) => {
        endEncode?.();
        return writeUnit(deps, opts, unit, encoded, report);
      })
      .then(
        (objects) => {
          written.push(...objects);
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
    const tracked = p.finally(() => {
      inFlight.delete(tracked);
      deps.metrics?.exportUnitsInFlight.set(inFlight.size);
    });
    inFlight.add(tracked);
    deps.metrics?.exportUnitsInFlight.set(inFlight.size);
  });
  const first = units[0]!.afterSeq;
  const last = units.at(-1)!.lastSeq;
  try {
    await copyChunksOut(
      client,
      `SELECT ${EXPORT_COPY_COLUMNS} FROM audit_events
       WHERE ledger_seq > ${first} AND ledger_seq <= ${last}${await occurredWindow(client, first, last)} ORDER BY ledger_seq`,
      (chunk) => {
        // a damaged COPY stream is recorded, not thrown: throwing here would leave the connection
        // inside an unfinished COPY
        if (failure !== null) return;
        try {
          splitter.push(chunk);
        } catch (err) {
          failure ??= err;
        }
      },
      async () => {
        while (inFlight.size >= UNITS_IN_FLIGHT) await Promise.race(inFlight);
      },
    );
    if (failure === null) splitter.end();
  } finally {
    // nothing of this batch is still being encoded or written when the run moves on or gives up
    await Promise.allSettled(inFlight);
  }
  if (failure) throw failure;
  return written;
}

/** The occurred_at span of the commits in a range, so the COPY reads only their partitions. */
async function occurredWindow(client: pg.ClientBase, afterSeq: number, lastSeq: number): Promise<string> {
  const { rows } = await client.query<{ lo: string | null; hi: string | null }>(
    `SELECT min(min_occurred_at) AS lo, max(max_occurred_at) AS hi FROM audit_commits
     WHERE first_seq <= $2 AND last_seq > $1 AND first_seq > $1 - 100000`,
    [afterSeq, lastSeq],
  );
  const { lo, hi } = rows[0] ?? { lo: null, hi: null };
  if (lo === null || hi === null) return '';
  return ` AND occurred_at >= ${client.escapeLiteral(lo)} AND occurred_at <= ${client.escapeLiteral(hi)}`;
}

/** Writes one encoded unit's objects, each before its signed manifest. */
async function writeUnit(
  deps: ExportDeps,
  opts: ExportOptions,
  unit: ExportUnit,
  encoded: EncodedUnit,
  report: ExportReport,
): Promise<WrittenObject[]> {
  return Promise.all(
    encoded.objects.map(async (object) => {
      const { format, body } = object;
      const key = objectKey(opts.prefix, unit.hourMs, unit.part, unit.parts, format);
      // the object first, then its manifest: a manifest never points at an object that was not written
      const stored = await putOnce(
        deps.destination,
        key,
        body,
        FORMATS[format].contentType,
        report,
        (existing) => contentDifference(format, existing, body),
      );
      const manifest = manifestPayload(
        {
          objectKey: key,
          format: FORMATS[format].label as 'ndjson.gz' | 'parquet',
          hourMs: unit.hourMs,
          part: unit.part,
          parts: unit.parts,
          afterSeq: unit.afterSeq,
          lastSeq: unit.lastSeq,
        },
        encoded.events,
        encoded.zones,
        stored === body ? object : objectDigest(stored),
      );
      const manifestText = `${JSON.stringify(signDocument(deps.signer!, manifest), null, 2)}\n`;
      await putOnce(
        deps.destination,
        `${key}${MANIFEST_SUFFIX}`,
        Buffer.from(manifestText),
        'application/json',
        report,
      );
      deps.metrics?.exportObjects.inc({ format });
      return {
        key,
        format: manifest.format,
        hourMs: unit.hourMs,
        afterSeq: unit.afterSeq,
        lastSeq: unit.lastSeq,
        events: encoded.events,
        sha256: manifest.object_sha256,
        bytes: manifest.object_bytes,
        manifest: manifestText,
      };
    }),
  );
}

/**
 * Writes unless the key is taken, and returns the bytes stored there. An existing object must hold the
 * very same bytes, or, when `sameContent` is given, the same content in other bytes (an earlier
 * version's encoder wrote it before the run was interrupted): it then names the first difference, or
 * null. Anything else is a conflict, and nothing is ever overwritten.
 */
async function putOnce(
  dest: ExportDestination,
  key: string,
  body: Buffer,
  contentType: string,
  report: ExportReport,
  sameContent?: (existing: Buffer) => Promise<string | null>,
): Promise<Buffer> {
  let outcome: Awaited<ReturnType<ExportDestination['putIfAbsent']>>;
  try {
    outcome = await dest.putIfAbsent(key, body, contentType);
  } catch (err) {
    throw new LedgerhubError(
      Errors.exportUnavailable,
      `${dest.name}: ${(err as Error).message}`,
      { key },
      { cause: err },
    );
  }
  if (outcome === 'created') {
    report.objects_written++;
    return body;
  }
  const existing = await dest.get(key);
  const difference =
    existing === null
      ? 'it could not be read back'
      : sha256Hex(existing) === sha256Hex(body)
        ? null
        : sameContent
          ? await sameContent(existing)
          : 'other bytes';
  if (difference !== null) {
    throw new LedgerhubError(
      Errors.exportConflict,
      `${dest.name}: ${key} already exists with different content (${difference}); it was not overwritten`,
      { key },
    );
  }
  report.objects_existing++;
  return existing!;
}

/** Checkpoints and tombstones created since the last run, one object each. */
async function exportEvidence(
  client: pg.ClientBase,
  dest: ExportDestination,
  prefix: string,
  wm: ExportWatermark,
): Promise<number> {
  const checkpoints = await client.query<{ checkpoint_no: number; document: string }>(
    'SELECT checkpoint_no, document FROM audit_checkpoints WHERE checkpoint_no > $1 ORDER BY checkpoint_no',
    [wm.lastCheckpointNo],
  );
  const tombstones = await client.query<{ id: number; partition_name: string; document: string }>(
    'SELECT id, partition_name, document FROM audit_tombstones WHERE id > $1 ORDER BY id',
    [wm.lastTombstoneId],
  );
  const scratch: ExportReport = { objects_written: 0, objects_existing: 0 } as ExportReport;
  for (const c of checkpoints.rows) {
    await putOnce(
      dest,
      checkpointKey(prefix, c.checkpoint_no),
      Buffer.from(`${c.document}\n`),
      'application/json',
      scratch,
    );
  }
  for (const t of tombstones.rows) {
    await putOnce(
      dest,
      tombstoneKey(prefix, t.partition_name),
      Buffer.from(`${t.document}\n`),
      'application/json',
      scratch,
    );
  }
  const written = checkpoints.rows.length + tombstones.rows.length;
  if (written > 0) {
    await dest.flush();
    await advanceEvidence(
      client,
      wm,
      checkpoints.rows.at(-1)?.checkpoint_no ?? wm.lastCheckpointNo,
      tombstones.rows.at(-1)?.id ?? wm.lastTombstoneId,
    );
  }
  return written;
}
