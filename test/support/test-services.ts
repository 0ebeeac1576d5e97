// Per-test-file isolation on the run's shared servers: a fresh database cloned from the migrated
// template, and unique stream and key names in the shared Redis.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../ledger/db.ts';

const TEMPLATE_DB = 'ledgerhub_template';

export interface TestDatabase {
  url: string;
  adminUrl: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template; with `migrated: false`, an empty one to migrate. */
export async function createTestDatabase({ migrated = true } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const template = migrated ? TEMPLATE_DB : 'template0';
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // CREATE DATABASE ... TEMPLATE fails while another session copies the same template; retry briefly
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      break;
    } catch (err) {
      if (attempt > 50 || !/is being accessed by other users/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  await admin.end();
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const pool = createPool({ databaseUrl: url, dbMaxConns: 5 });
  return {
    url,
    adminUrl,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function redisUrl(): string {
  return inject('redisUrl');
}

/** Stream names no other test file uses. */
export function uniqueStreams(label = 'test'): { stream: string; dlqStream: string; prefix: string } {
  const id = `${label}.${randomBytes(4).toString('hex')}`;
  return { stream: `${id}.events`, dlqStream: `${id}.events.dlq`, prefix: id };
}
