// `ledgerhub api`: the admin API, live tail and console. Wires Postgres (read role), Redis (dead
// letters), the tail hub and the HTTP server, and shuts down cleanly on request.
import { readFileSync } from 'node:fs';
import type { ConfigOf } from '../ledger/config/keys.ts';
import { type apiKeys, isProduction } from '../ledger/config/roles.ts';
import { createPool } from '../ledger/db.ts';
import { DeadLetterStore } from '../ledger/dlq-store.ts';
import { createRedis } from '../ledger/redis.ts';
import { createLogger, type Logger } from '../ledger/runtime/log.ts';
import { parseTokens } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { createApiMetrics } from './metrics.ts';
import type { AnyRoute } from './route.ts';
import { buildServer } from './server.ts';
import { TailHub } from './tail-hub.ts';

export type ApiConfig = ConfigOf<typeof apiKeys>;

export interface ApiHandle {
  url: string;
  port: number;
  deps: ApiDeps;
  stop(): Promise<void>;
  done: Promise<void>;
}

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export async function startApi(
  config: ApiConfig,
  opts: { log?: Logger; extraRoutes?: (deps: ApiDeps) => AnyRoute[] } = {},
): Promise<ApiHandle> {
  const log = opts.log ?? createLogger('api', config.logLevel);
  const tokens = parseTokens(config.apiTokens);
  if (tokens.length === 0) log.warn('LEDGERHUB_API_TOKENS is empty: every /v1 route will answer 401');
  const metrics = createApiMetrics();
  const pool = createPool({ ...config, applicationName: 'ledgerhub-api' });
  const redis = createRedis(config.redisUrl, 'ledgerhub-api');
  const tail = new TailHub(
    pool,
    { ...config, applicationName: 'ledgerhub-api-tail' },
    {
      ringSize: Math.max(config.sseClientBuffer * 2, 2000),
      clientBuffer: config.sseClientBuffer,
      heartbeatMs: config.sseHeartbeatSecs * 1000,
      maxClients: config.sseMaxClients,
      pollMs: 2000,
    },
    metrics,
    log,
  );
  const deps: ApiDeps = {
    pool,
    redis,
    hmacKey: config.hmacKey,
    deadLetters: new DeadLetterStore(redis, config),
    tail,
    metrics,
    log,
    retentionCeilingDays: config.retentionCeilingDays,
  };
  await tail.start();
  const app = buildServer(deps, {
    tokens,
    metricsBearer: config.metricsBearer,
    production: isProduction(config),
    bodyLimitBytes: config.bodyLimitBytes,
    serveConsole: config.serveConsole,
    version: VERSION,
    extraRoutes: opts.extraRoutes?.(deps),
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log.info({ url, tokens: tokens.map((t) => t.name) }, 'api started');

  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await tail.stop();
      await app.close();
      redis.disconnect();
      await pool.end().catch(() => {});
      log.info('api stopped');
      resolveDone();
    })();
    return stopping;
  };
  return { url, port, deps, stop, done };
}
