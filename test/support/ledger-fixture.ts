// A ledger for one test file: its own database and streams, a signing key, a worker configuration
// pointing at them, and shortcuts to XADD events and read what was stored.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../ledger/config/keys.ts';
import { workerKeys } from '../../ledger/config/roles.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { createRedis } from '../../ledger/redis.ts';
import { encodeStreamFields, type HmacKey, hmacKeyFromBytes } from '../../ledger/stream-codec.ts';
import type { WorkerConfig } from '../../worker/main.ts';
import { createTestDatabase, redisUrl, type TestDatabase, uniqueStreams } from './test-services.ts';

export interface LedgerFixture {
  db: TestDatabase;
  redis: Redis;
  stream: string;
  dlqStream: string;
  keyHex: string;
  key: HmacKey;
  env: Record<string, string>;
  workerConfig(overrides?: Record<string, string>): WorkerConfig;
  xadd(event: AuditEventInput, opts?: { sign?: boolean | HmacKey; fields?: string[] }): Promise<string>;
  xaddRaw(fields: (string | Buffer)[]): Promise<string>;
  storedCount(): Promise<number>;
  dlqEntries(): Promise<{ id: string; fields: Record<string, string> }[]>;
  close(): Promise<void>;
}

export async function createLedgerFixture(label = 'ledger'): Promise<LedgerFixture> {
  const db = await createTestDatabase();
  const redis = createRedis(redisUrl(), 'test-fixture');
  const names = uniqueStreams(label);
  const keyBytes = randomBytes(32);
  const keyHex = keyBytes.toString('hex');
  const key = hmacKeyFromBytes(keyBytes);
  const env: Record<string, string> = {
    REDIS_URL: redisUrl(),
    DATABASE_URL: db.url,
    AUDIT_STREAM: names.stream,
    AUDIT_DLQ_STREAM: names.dlqStream,
    AUDIT_HMAC_KEY: keyHex,
    HOSTNAME: `worker-${randomBytes(3).toString('hex')}`,
    PORT: '0',
    AUDIT_BLOCK_MS: '100',
    AUDIT_RETRY_BASE_MS: '20',
    AUDIT_RETRY_MAX_MS: '500',
  };
  return {
    db,
    redis,
    stream: names.stream,
    dlqStream: names.dlqStream,
    keyHex,
    key,
    env,
    workerConfig: (overrides = {}) =>
      loadConfig('worker', workerKeys, {
        ...env,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        ...overrides,
      }),
    async xadd(event, opts = {}) {
      const data = JSON.stringify(event);
      const signKey =
        opts.sign === false ? null : opts.sign === true || opts.sign === undefined ? key : opts.sign;
      const fields = opts.fields ?? encodeStreamFields(event.id, data, signKey);
      return (await redis.xadd(names.stream, '*', ...fields)) as string;
    },
    async xaddRaw(fields) {
      return (await redis.xadd(names.stream, '*', ...fields)) as string;
    },
    async storedCount() {
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
      return rows[0]!.n;
    },
    async dlqEntries() {
      const entries = await redis.xrange(names.dlqStream, '-', '+');
      return entries.map(([id, flat]) => {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
        return { id, fields };
      });
    },
    async close() {
      redis.disconnect();
      await db.drop();
    },
  };
}
