// Retention policy, pure: the effective number of days (Caracal: the smaller of the configured ceiling
// and the console's setting), daily partition names, and which partitions lie wholly past retention.

export interface RetentionPolicy {
  retention_days: number;
  max_days: number;
  /** Where retention_days came from. */
  source: 'setting' | 'ceiling';
}

export function effectivePolicy(ceilingDays: number, settingDays: number | null): RetentionPolicy {
  if (settingDays !== null && settingDays < ceilingDays) {
    return { retention_days: settingDays, max_days: ceilingDays, source: 'setting' };
  }
  return { retention_days: ceilingDays, max_days: ceilingDays, source: 'ceiling' };
}

export const PARTITION_PATTERN = /^audit_events_p(\d{4})(\d{2})(\d{2})$/;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a daily partition name, or null for any other name (or an impossible date). */
export function partitionDay(name: string): string | null {
  const m = PARTITION_PATTERN.exec(name);
  if (!m) return null;
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day ? null : day;
}

export function partitionName(day: string): string {
  return `audit_events_p${day.replaceAll('-', '')}`;
}

/** [start, end) of a partition's day as ISO instants. */
export function partitionRange(day: string): { from: string; to: string } {
  const start = Date.parse(`${day}T00:00:00Z`);
  return { from: new Date(start).toISOString(), to: new Date(start + DAY_MS).toISOString() };
}

/** The instant before which a whole day is past retention. */
export function retentionCutoff(nowMs: number, days: number): Date {
  return new Date(nowMs - days * DAY_MS);
}

/**
 * Daily partitions whose whole day ends at or before the cutoff, oldest first. The database function
 * applies the same rule (day + days + 1 <= today, UTC) before it drops anything.
 */
export function partitionsPastRetention(
  names: string[],
  nowMs: number,
  days: number,
): { name: string; day: string }[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const out: { name: string; day: string }[] = [];
  for (const name of names) {
    const day = partitionDay(name);
    if (day === null) continue;
    if (Date.parse(`${day}T00:00:00Z`) + (days + 1) * DAY_MS <= today) out.push({ name, day });
  }
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/** Names of the daily partitions [today - 1, today + ahead] that retention keeps created. */
export function partitionsAhead(nowMs: number, aheadDays: number): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const out: string[] = [];
  for (let d = -1; d <= aheadDays; d++)
    out.push(partitionName(new Date(today + d * DAY_MS).toISOString().slice(0, 10)));
  return out;
}
