// What the operator learns from a policy's Redis and Postgres: reachability, ingestion lag and DLQ size
// (XINFO GROUPS / XLEN), and sink health (forwarder_sinks through ledger/sinks/health-store.ts). One
// probe of one ledger, with timeouts; scheduling lives in ledger-prober.ts.
import type { Redis } from 'ioredis';
import { connectClient } from '../../ledger/db.ts';
import { messageOf } from '../../ledger/errors.ts';
import { listSinkHealth, type SinkHealth } from '../../ledger/sinks/health-store.ts';
import { INGEST_GROUP } from '../../ledger/stream-codec.ts';

export interface LedgerTarget {
  redisUrl: string;
  stream: string;
  dlqStream: string;
  databaseUrl: string;
}

export type RedisProbe = { ok: true; lag: number; deadLettered: number } | { ok: false; error: string };
export type PostgresProbe =
  | {
      ok: true;
      /** null when the forwarder's tables are not there yet (migrations have not run). */
      sinks: SinkHealth[] | null;
    }
  | { ok: false; error: string };

export interface LedgerProbeResult {
  redis: RedisProbe;
  postgres: PostgresProbe;
}

/** Pending plus not-yet-delivered entries of the ingest group, and the DLQ length. */
export async function probeRedis(redis: Redis, target: LedgerTarget, timeoutMs: number): Promise<RedisProbe> {
  try {
    const [groups, dlq] = await withTimeout(
      Promise.all([xinfoGroups(redis, target.stream), redis.xlen(target.dlqStream)]),
      timeoutMs,
      'Redis',
    );
    const group = groups.find((g) => g.get('name') === INGEST_GROUP);
    const pending = Number(group?.get('pending') ?? 0);
    const lag = Number(group?.get('lag') ?? 0);
    return { ok: true, lag: pending + (Number.isFinite(lag) ? lag : 0), deadLettered: dlq };
  } catch (err) {
    return { ok: false, error: messageOf(err) };
  }
}

async function xinfoGroups(redis: Redis, stream: string): Promise<Map<string, unknown>[]> {
  let raw: unknown[];
  try {
    raw = (await redis.xinfo('GROUPS', stream)) as unknown[];
  } catch (err) {
    if (/no such key/i.test(messageOf(err))) return [];
    throw err;
  }
  return raw.map((g) => {
    const fields = g as unknown[];
    const map = new Map<string, unknown>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), fields[i + 1]);
    return map;
  });
}

/** Connects as the policy's login (it ran the migrations), reads sink health, disconnects. */
export async function probePostgres(target: LedgerTarget, timeoutMs: number): Promise<PostgresProbe> {
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await connectClient({
      databaseUrl: target.databaseUrl,
      dbConnectTimeoutMs: timeoutMs,
      applicationName: 'ledgerhub-operator',
    });
    await client.query(`SET statement_timeout = ${Math.max(100, Math.trunc(timeoutMs))}`);
    try {
      return { ok: true, sinks: await listSinkHealth(client) };
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return { ok: true, sinks: null };
      throw err;
    }
  } catch (err) {
    return { ok: false, error: messageOf(err) };
  } finally {
    await client?.end().catch(() => {});
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
