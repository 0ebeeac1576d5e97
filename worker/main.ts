// `ledgerhub worker`: wires the ingestion loop to Redis and Postgres, runs the reaper, the trimmer and
// the stats poller on timers, serves /health, /ready and /metrics, and shuts down cleanly on request.
import type { ConfigOf } from '../ledger/config/keys.ts';
import { isProduction, type workerKeys } from '../ledger/config/roles.ts';
import { createPool } from '../ledger/db.ts';
import { Errors, LedgerhubError } from '../ledger/errors.ts';
import { createRedis } from '../ledger/redis.ts';
import { createLogger, type Logger } from '../ledger/runtime/log.ts';
import { type Readiness, startProbeServer } from '../ledger/runtime/probe-server.ts';
import { INGEST_GROUP } from '../ledger/stream-codec.ts';
import { inlineClassifier, threadClassifier } from './classifier.ts';
import { Ingestor } from './ingestor.ts';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.ts';
import { ensureGroup, type StreamNames, type StreamStats, streamStats, trimAcknowledged } from './stream.ts';

export type WorkerConfig = ConfigOf<typeof workerKeys>;

export interface WorkerHandle {
  port: number;
  metrics: WorkerMetrics;
  ingestor: Ingestor;
  /** Latest gauges (refreshed every AUDIT_STATS_INTERVAL_SECS, or on demand). */
  refreshStats(): Promise<StreamStats>;
  readiness(): Promise<Readiness>;
  /** Finishes the batch in flight, acknowledges it, closes connections. */
  stop(): Promise<void>;
  /** Resolves when the ingestion loop ends (after stop(), or with its error). */
  done: Promise<void>;
}

export async function startWorker(config: WorkerConfig, opts: { log?: Logger } = {}): Promise<WorkerHandle> {
  const log = opts.log ?? createLogger('worker', config.logLevel);
  if (isProduction(config) && config.hmacKey === null) {
    throw new LedgerhubError(
      Errors.configInvalid,
      'worker: AUDIT_HMAC_KEY is required in production mode (unsigned events must not be stored as evidence)',
      { key: 'AUDIT_HMAC_KEY' },
    );
  }
  const names: StreamNames = {
    stream: config.stream,
    dlqStream: config.dlqStream,
    group: INGEST_GROUP,
    consumer: config.consumer,
  };
  const metrics = createWorkerMetrics();
  const redis = createRedis(config.redisUrl, `ledgerhub-worker-${config.consumer}`);
  const blocking = createRedis(config.redisUrl, `ledgerhub-worker-${config.consumer}-read`);
  const pool = createPool({ ...config, applicationName: `ledgerhub-worker-${config.consumer}` });

  // Until Redis and Postgres answer, wait (the probes say which is missing) instead of crash-looping.
  let starting: Readiness | null = { ready: false, reason: 'redis_unreachable' };
  let readiness: () => Promise<Readiness> = async () => starting ?? { ready: false, reason: 'starting' };
  let loopError: () => Error | null = () => null;
  const probes = await startProbeServer({
    port: config.port,
    registry: metrics.registry,
    metricsBearer: config.metricsBearer,
    production: isProduction(config),
    health: () => (loopError() ? { ready: false, reason: 'consumer_unhealthy' } : { ready: true }),
    ready: () => readiness(),
    realm: 'caracal-audit',
  });
  await untilAvailable(log, 'Redis', () => ensureGroup(redis, names));
  starting = { ready: false, reason: 'postgres_unreachable' };
  await untilAvailable(log, 'Postgres', () => ensurePartitions(pool, config.partitionAheadDays, log));
  starting = null;

  const classifyOptions = { hmacKey: config.hmacKey, maxMessageBytes: config.maxMessageBytes };
  const classifier = config.classifyThread
    ? threadClassifier(classifyOptions)
    : inlineClassifier(classifyOptions);
  const ingestor = new Ingestor(
    { redis, blocking, pool, metrics, log, classifier },
    {
      names,
      hmacKey: config.hmacKey,
      batchSize: config.batchSize,
      blockMs: config.blockMs,
      maxDeliveries: config.maxDeliveries,
      maxMessageBytes: config.maxMessageBytes,
      claimIdleMs: config.claimIdleSecs * 1000,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
      notifyCommits: config.notifyCommits,
    },
  );

  const refreshStats = async () => {
    const s = await streamStats(redis, names);
    metrics.consumerLag.set(s.pending);
    metrics.undelivered.set(s.undelivered);
    metrics.pelOldest.set(s.oldestPendingAgeSeconds);
    metrics.dlqSize.set(s.dlqSize);
    metrics.dlqOldest.set(s.dlqOldestAgeSeconds);
    metrics.streamLength.set(s.streamLength);
    return s;
  };

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, fn: () => Promise<unknown>) => {
    if (ms <= 0) return;
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, `${what} failed`))
        .finally(() => {
          running = false;
        });
    }, ms);
    t.unref();
    timers.push(t);
  };
  every(config.claimIdleSecs * 1000, 'reclaim', () => ingestor.reclaim());
  every(config.trimIntervalSecs * 1000, 'trim', async () => {
    const trimmed = await trimAcknowledged(redis, names.stream);
    if (trimmed > 0) metrics.trimmed.inc(trimmed);
  });
  every(config.statsIntervalSecs * 1000, 'stats', refreshStats);
  every(3600_000, 'partitions', () => ensurePartitions(pool, config.partitionAheadDays, log));
  await refreshStats().catch(() => {});

  loopError = () => ingestor.loopError;
  readiness = async (): Promise<Readiness> => {
    if (ingestor.loopError) return { ready: false, reason: 'consumer_unhealthy' };
    if (!ingestor.postgresReachable) return { ready: false, reason: 'postgres_unreachable' };
    const s = await refreshStats().catch(() => null);
    if (s === null || !ingestor.redisReachable) return { ready: false, reason: 'redis_unreachable' };
    if (config.readyDlqMax > 0 && s.dlqSize > config.readyDlqMax) {
      return { ready: false, reason: 'audit_dlq_threshold', detail: { dlq_size: s.dlqSize } };
    }
    if (config.readyLagMax > 0 && s.pending + s.undelivered > config.readyLagMax) {
      return { ready: false, reason: 'audit_lag_threshold', detail: { lag: s.pending + s.undelivered } };
    }
    if (config.readyPelOldestSecsMax > 0 && s.oldestPendingAgeSeconds > config.readyPelOldestSecsMax) {
      return {
        ready: false,
        reason: 'audit_pel_oldest_threshold',
        detail: { oldest_seconds: s.oldestPendingAgeSeconds },
      };
    }
    return { ready: true };
  };

  log.info(
    {
      stream: names.stream,
      group: names.group,
      consumer: names.consumer,
      port: probes.port,
      signed: config.hmacKey !== null,
    },
    'worker started',
  );
  const done = ingestor.run();
  done.catch(() => {});

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      ingestor.stop();
      blocking.disconnect(); // ends a blocked XREADGROUP now rather than after AUDIT_BLOCK_MS
      for (const t of timers) clearInterval(t);
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([done.catch(() => {}), deadline]);
      await probes.close();
      redis.disconnect();
      blocking.disconnect();
      await pool.end().catch(() => {});
      await classifier.close();
      log.info({ stored: ingestor.storedCount }, 'worker stopped');
    })();
    return stopped;
  };

  return {
    port: probes.port,
    metrics,
    ingestor,
    refreshStats,
    readiness: () => readiness(),
    stop,
    done,
  };
}

/** Retries `op` with capped back-off while the service it needs cannot be reached, logging each wait. */
async function untilAvailable(log: Logger, what: string, op: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await op();
      if (attempt > 0) log.info(`${what} reachable`);
      return;
    } catch (err) {
      const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
      log.warn({ err: (err as Error).message, retryInMs: delay }, `waiting for ${what}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function ensurePartitions(pool: import('pg').Pool, aheadDays: number, log: Logger): Promise<void> {
  const { rows } = await pool.query<{ created: number }>(
    "SELECT ledgerhub_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, $1) AS created",
    [aheadDays + 2],
  );
  const created = rows[0]?.created ?? 0;
  if (created > 0) log.info({ created }, 'created daily partitions');
}
