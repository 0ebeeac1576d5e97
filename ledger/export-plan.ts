// Export planning, pure: hours, object keys (Caracal's `audit/YYYY/MM/DD/YYYY-MM-DDTHH.parquet`, with a
// part number when an hour is split), the split of an hour's commit-order range into parts, and the
// formats' file names and content types.
import type { ExportFormatName } from './config/maintenance.ts';

export const HOUR_MS = 3_600_000;

export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export const FORMATS: Record<ExportFormatName, { ext: string; contentType: string; label: string }> = {
  ndjson: { ext: '.ndjson.gz', contentType: 'application/gzip', label: 'ndjson.gz' },
  parquet: { ext: '.parquet', contentType: 'application/vnd.apache.parquet', label: 'parquet' },
};

export const MANIFEST_SUFFIX = '.manifest.json';

/** `<prefix>YYYY/MM/DD/YYYY-MM-DDTHH[.pNNN]<ext>` for an hour (UTC) and part (1-based, of parts). */
export function objectKey(
  prefix: string,
  hourMs: number,
  part: number,
  parts: number,
  format: ExportFormatName,
): string {
  const iso = new Date(hourMs).toISOString();
  const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const suffix = parts > 1 ? `.p${String(part).padStart(3, '0')}` : '';
  return `${prefix}${y}/${m}/${d}/${iso.slice(0, 13)}${suffix}${FORMATS[format].ext}`;
}

export function checkpointKey(prefix: string, no: number): string {
  return `${prefix}evidence/checkpoints/${String(no).padStart(12, '0')}.json`;
}

export function tombstoneKey(prefix: string, partition: string): string {
  return `${prefix}evidence/tombstones/${partition}.json`;
}

export interface PartRange {
  part: number;
  parts: number;
  /** Exclusive. */
  afterSeq: number;
  /** Inclusive. */
  lastSeq: number;
}

/**
 * Splits the commit-order range (afterSeq, lastSeq] into parts of at most `maxEvents` ledger_seq
 * values; ledger_seq is gapless, so no part holds more events than that.
 */
export function splitParts(afterSeq: number, lastSeq: number, maxEvents: number): PartRange[] {
  const width = Math.max(1, maxEvents);
  const parts = Math.max(1, Math.ceil((lastSeq - afterSeq) / width));
  const out: PartRange[] = [];
  for (let i = 0; i < parts; i++) {
    out.push({
      part: i + 1,
      parts,
      afterSeq: afterSeq + i * width,
      lastSeq: Math.min(lastSeq, afterSeq + (i + 1) * width),
    });
  }
  return out;
}

/** One object's worth of an hour: a commit-order range written as one object per format. */
export interface ExportUnit {
  hourMs: number;
  part: number;
  parts: number;
  /** Exclusive. */
  afterSeq: number;
  /** Inclusive. */
  lastSeq: number;
}

export interface CommitHour {
  hourMs: number;
  /** The highest last_seq of the commits that began in that hour. */
  maxLastSeq: number;
}

export interface PlanLimits {
  /** Start of the last hour that is complete (ended, plus grace). */
  lastComplete: number;
  maxHours: number;
  maxObjectEvents: number;
  /** Stop adding hours once this many ledger_seq values are planned (bounds a batch). */
  batchEvents: number;
}

/**
 * The units after the watermark, from the hours in which commits began (ascending). Hour h's objects
 * hold every commit not yet exported that began before h ended: commits that began in an hour already
 * exported but finished after it was (stragglers) fold into the next hour, so nothing is skipped and
 * nothing repeats.
 */
export function planUnits(
  hours: CommitHour[],
  wm: { lastHourMs: number | null; lastSeq: number },
  limits: PlanLimits,
): ExportUnit[] {
  const units: ExportUnit[] = [];
  let after = wm.lastSeq;
  let prevHour = wm.lastHourMs;
  let running = after;
  let taken = 0;
  const emit = (hourMs: number) => {
    for (const p of splitParts(after, running, limits.maxObjectEvents)) units.push({ hourMs, ...p });
    after = running;
    prevHour = hourMs;
    taken++;
  };
  for (const h of hours) {
    if (h.hourMs > limits.lastComplete) break;
    running = Math.max(running, h.maxLastSeq);
    if (prevHour !== null && h.hourMs <= prevHour) continue;
    if (running <= after) continue;
    emit(h.hourMs);
    if (taken >= limits.maxHours || running - wm.lastSeq >= limits.batchEvents) return units;
  }
  if (
    running > after &&
    prevHour !== null &&
    prevHour + HOUR_MS <= limits.lastComplete &&
    taken < limits.maxHours
  ) {
    emit(prevHour + HOUR_MS);
  }
  return units;
}
