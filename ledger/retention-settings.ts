// The retention setting in Caracal's shape (GET/PUT /v1/audit-retention): {retention_days, max_days,
// updated_by, updated_at}. Writes go through a SECURITY DEFINER function, so a role that may only
// SELECT (the API) can set it; above the configured ceiling is refused with retention_above_limit.
import type pg from 'pg';
import { Errors, LedgerhubError } from './errors.ts';
import { effectivePolicy } from './retention-policy.ts';

export interface RetentionSetting {
  retention_days: number;
  max_days: number;
  updated_by: string | null;
  updated_at: string | null;
}

type Queryable = Pick<pg.Pool | pg.ClientBase, 'query'>;

/** The stored override, or null when none was ever set. */
export async function storedRetentionDays(db: Queryable): Promise<{
  retention_days: number;
  updated_by: string | null;
  updated_at: string;
} | null> {
  const { rows } = await db.query<{ retention_days: number; updated_by: string | null; updated_at: string }>(
    `SELECT retention_days, updated_by, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at
     FROM audit_retention WHERE singleton`,
  );
  return rows[0] ?? null;
}

/** Effective retention: the setting when it is below the ceiling (`maxDays`), else the ceiling. */
export async function getRetention(db: Queryable, maxDays: number): Promise<RetentionSetting> {
  const stored = await storedRetentionDays(db);
  return {
    retention_days: effectivePolicy(maxDays, stored?.retention_days ?? null).retention_days,
    max_days: maxDays,
    updated_by: stored?.updated_by ?? null,
    updated_at: stored?.updated_at ?? null,
  };
}

/**
 * Sets retention. `days` is checked as Caracal's strict body is: an integer of at least 1
 * (`invalid_body`), not above `maxDays` (`retention_above_limit`, with max_days in the error detail).
 */
export async function setRetention(
  db: Queryable,
  days: unknown,
  updatedBy: string | null,
  maxDays: number,
): Promise<RetentionSetting> {
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 1) {
    throw new LedgerhubError(Errors.invalidBody, 'retention_days must be an integer of at least 1', {
      field: 'retention_days',
    });
  }
  if (days > maxDays) {
    throw new LedgerhubError(
      Errors.retentionAboveLimit,
      `retention_days ${days} exceeds the configured ceiling of ${maxDays} day(s)`,
      { max_days: maxDays },
    );
  }
  await db.query('SELECT ledgerhub_set_retention($1, $2, $3)', [days, updatedBy, maxDays]);
  return getRetention(db, maxDays);
}
