// Schema migrations: plain SQL files in ledger/migrations applied in order, each in its own transaction,
// under an advisory lock so concurrent runners wait; an applied file that changed afterwards is refused.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { Errors, LedgerhubError } from './errors.ts';

export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url).pathname;
const MIGRATION_LOCK = 0x4c4847_4d494752n; // "LHG" "MIGR"

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort();
  const out: Migration[] = [];
  for (const file of files) {
    const sql = readFileSync(join(dir, file), 'utf8');
    const version = Number(file.slice(0, 4));
    if (out.some((m) => m.version === version)) {
      throw new LedgerhubError(Errors.migrationFailed, `two migrations share version ${version}`);
    }
    out.push({
      version,
      name: file.replace(/\.sql$/, ''),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return out;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/** Applies pending migrations. `client` must be a dedicated connection with DDL rights. */
export async function migrate(
  client: pg.ClientBase,
  migrations = loadMigrations(),
  onApplied: (name: string) => void = () => {},
): Promise<MigrateResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ledgerhub_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM ledgerhub_migrations ORDER BY version',
    );
    const applied = new Map(rows.map((r) => [r.version, r]));
    for (const [version, row] of applied) {
      const known = migrations.find((m) => m.version === version);
      if (known && known.checksum !== row.checksum) {
        throw new LedgerhubError(
          Errors.migrationFailed,
          `migration ${row.name} was changed after it was applied (checksum differs); add a new migration instead`,
        );
      }
    }
    const result: MigrateResult = { applied: [], alreadyApplied: applied.size };
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO ledgerhub_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new LedgerhubError(
          Errors.migrationFailed,
          `migration ${m.name} failed: ${(err as Error).message}`,
          {
            migration: m.name,
          },
        );
      }
      result.applied.push(m.name);
      onApplied(m.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
  }
}
