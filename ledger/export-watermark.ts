// The export's durable state per destination: Caracal's watermark (last exported hour) plus the
// commit-order position reached, the plan of the hours being written (persisted before any write, so
// a re-run writes the very same objects), the evidence cursors, and the registry of written objects.
import type pg from 'pg';
import type { ExportUnit } from './export-plan.ts';

export interface ExportWatermark {
  name: string;
  lastHourMs: number | null;
  lastSeq: number;
  /** Units planned and not yet completed (a run that stopped midway). */
  pending: ExportUnit[] | null;
  lastCheckpointNo: number;
  lastTombstoneId: number;
}

interface Row {
  last_exported_hour_ms: number;
  last_ledger_seq: number;
  pending_plan: ExportUnit[] | null;
  last_checkpoint_no: number;
  last_tombstone_id: number;
}

export async function loadWatermark(db: pg.ClientBase, name: string): Promise<ExportWatermark> {
  const { rows } = await db.query<Row>(
    `SELECT (extract(epoch FROM last_exported_hour) * 1000)::bigint AS last_exported_hour_ms, last_ledger_seq,
            pending_plan, last_checkpoint_no, last_tombstone_id
     FROM audit_export_watermark WHERE name = $1`,
    [name],
  );
  const r = rows[0];
  if (!r)
    return { name, lastHourMs: null, lastSeq: 0, pending: null, lastCheckpointNo: 0, lastTombstoneId: 0 };
  return {
    name,
    lastHourMs: r.last_exported_hour_ms,
    lastSeq: r.last_ledger_seq,
    pending: r.pending_plan && r.pending_plan.length > 0 ? r.pending_plan : null,
    lastCheckpointNo: r.last_checkpoint_no,
    lastTombstoneId: r.last_tombstone_id,
  };
}

const iso = (t: number) => new Date(t).toISOString();

/** Records the units about to be written (before any object is). */
export async function savePending(
  db: pg.ClientBase,
  wm: ExportWatermark,
  units: ExportUnit[],
): Promise<void> {
  await db.query(
    `INSERT INTO audit_export_watermark (name, last_exported_hour, last_ledger_seq, pending_plan, pending_planned_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (name) DO UPDATE SET pending_plan = EXCLUDED.pending_plan,
       pending_planned_at = EXCLUDED.pending_planned_at, updated_at = now()`,
    [wm.name, iso(wm.lastHourMs ?? units[0]!.hourMs - 3_600_000), wm.lastSeq, JSON.stringify(units)],
  );
  wm.pending = units;
}

export interface WrittenObject {
  key: string;
  format: string;
  hourMs: number;
  afterSeq: number;
  lastSeq: number;
  events: number;
  sha256: string;
  bytes: number;
  manifest: string;
}

/** Registers the objects of completed units and moves the watermark past them, in one transaction. */
export async function completeUnits(
  db: pg.ClientBase,
  wm: ExportWatermark,
  last: ExportUnit,
  objects: WrittenObject[],
): Promise<void> {
  await db.query('BEGIN');
  try {
    if (objects.length > 0) {
      await db.query(
        `INSERT INTO audit_export_objects (destination, object_key, format, hour, first_ledger_seq, last_ledger_seq,
           event_count, object_sha256, object_bytes, manifest)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::int[],
           $8::text[], $9::bigint[], $10::text[])
         ON CONFLICT (destination, object_key) DO NOTHING`,
        [
          wm.name,
          objects.map((o) => o.key),
          objects.map((o) => o.format),
          objects.map((o) => iso(o.hourMs)),
          objects.map((o) => o.afterSeq + 1),
          objects.map((o) => o.lastSeq),
          objects.map((o) => o.events),
          objects.map((o) => o.sha256),
          objects.map((o) => o.bytes),
          objects.map((o) => o.manifest),
        ],
      );
    }
    await db.query(
      `INSERT INTO audit_export_watermark (name, last_exported_hour, last_ledger_seq) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET last_exported_hour = EXCLUDED.last_exported_hour,
         last_ledger_seq = EXCLUDED.last_ledger_seq, pending_plan = NULL, pending_planned_at = NULL, updated_at = now()`,
      [wm.name, iso(last.hourMs), last.lastSeq],
    );
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  }
  wm.lastHourMs = last.hourMs;
  wm.lastSeq = last.lastSeq;
  wm.pending = null;
}

export async function advanceEvidence(
  db: pg.ClientBase,
  wm: ExportWatermark,
  checkpointNo: number,
  tombstoneId: number,
): Promise<void> {
  await db.query(
    `INSERT INTO audit_export_watermark (name, last_exported_hour, last_ledger_seq, last_checkpoint_no, last_tombstone_id)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET last_checkpoint_no = EXCLUDED.last_checkpoint_no,
       last_tombstone_id = EXCLUDED.last_tombstone_id, updated_at = now()`,
    [wm.name, iso(wm.lastHourMs ?? 0), wm.lastSeq, checkpointNo, tombstoneId],
  );
  wm.lastCheckpointNo = checkpointNo;
  wm.lastTombstoneId = tombstoneId;
}
