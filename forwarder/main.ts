// `ledgerhub forwarder`: wires the sinks (one queue, worker pool and breaker each), the dispatcher and
// the ledger listener to Postgres and Redis, refreshes gauges on a timer, serves /health, /ready and
// /metrics, and shuts down cleanly on request.

import type { forwarderKeys } from '../ledger/config/forwarder.ts';
import type { ConfigOf } from '../ledger/config/keys.ts';
import { isProduction } from '../ledger/config/roles.ts';
import { createPool } from '../ledger/db.ts';
import { Errors, LedgerhubError, messageOf } from '../ledger/errors.ts';
import { createRedis } from '../ledger/redis.ts';
import { createLogger, type Logger } from '../ledger/runtime/log.ts';
import { type Readiness, startProbeServer } from '../ledger/runtime/probe-server.ts';
import { listSinkHealth } from '../ledger/sinks/health-store.ts';
import { type ForwarderSinkEntry, loadSinksFile } from '../ledger/sinks/sinks-file.ts';
import { Dispatcher } from './dispatcher.ts';
import { LedgerEventCache } from './event-cache.ts';
import { LedgerListener } from './ledger-listener.ts';
import { createForwarderMetrics, type ForwarderMetrics } from './metrics.ts';
import { SecretCache } from './secret-cache.ts';
import { SinkRunner } from './sink-runner.ts';
import { SinkStore } from './sink-store.ts';

export type ForwarderConfig = ConfigOf<typeof forwarderKeys>;

export interface ForwarderOptions {
  log?: Logger;
  /** The sinks to run; default: read from LEDGERHUB_SINKS_FILE. */
  sinks?: ForwarderSinkEntry[];
  /** Environment for the LEDGERHUB_SECRET_* fallback (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface ForwarderHandle {
  port: number;
  metrics: ForwarderMetrics;
  runners: ReadonlyMap<string, SinkRunner>;
  /** This replica holds the dispatch lock. */
  isDispatcher(): boolean;
  /** Refreshes the queue, lag and dead-letter gauges now. */
  refreshStats(): Promise<void>;
  readiness(): Promise<Readiness>;
  stop(): Promise<void>;
  /** Resolves once stop() has finished. */
  done: Promise<void>;
}

const RECEIPT_PRUNE_INTERVAL_MS = 3600_000;

export async function startForwarder(
  config: ForwarderConfig,
  opts: ForwarderOptions = {},
): Promise<ForwarderHandle> {
  const log = opts.log ?? createLogger('forwarder', config.logLevel);
  const sinks = opts.sinks ?? loadSinksFile(config.sinksFile);
  const metrics = createForwarderMetrics();
  const name = `ledgerhub-forwarder-${config.instance}`;
  // every delivery slot may hold a connection, plus the dispatcher, the stats and a probe
  const slots = sinks.reduce((n, s) => n + s.spec.concurrency, 0);
  const pool = createPool({
    ...config,
    dbMaxConns: Math.max(config.dbMaxConns, slots + 4),
    applicationName: name,
    // Bookkeeping commits need not wait for the WAL flush: a Postgres crash can only lose the newest
    // receipts and cursor moves, and losing them means delivering those batches again (at least once),
    // never skipping one. Ingestion's commits are untouched.
    settings: { synchronous_commit: 'off' },
  });
  // commands that must fail fast when Redis is away (dispatch rounds retry); workers get their own
  const redis = createRedis(config.redisUrl, name);

  try {
    await requireSchema(pool);
    await warnOnEviction(redis, log);
  } catch (err) {
    redis.disconnect();
    await pool.end().catch(() => {});
    throw err;
  }

  const cache = new LedgerEventCache(pool, config.cacheEvents);
  const secrets = new SecretCache(
    { dir: config.secretsDir, env: opts.env ?? process.env },
    config.secretRefreshMs,
  );
  let dispatcher: Dispatcher | undefined;
  const runners = new Map<string, SinkRunner>();
  for (const entry of sinks) {
    runners.set(
      entry.name,
      new SinkRunner(
        entry,
        {
          pool,
          cache,
          redis,
          readSecret: secrets.read,
          metrics,
          log,
          onProgress: (sink) => dispatcher?.wake(sink),
        },
        {
          prefix: config.queuePrefix,
          lockDurationMs: config.lockDurationMs,
          keepJobs: config.keepJobs,
          keepJobsSeconds: config.keepJobsSeconds,
          healthIntervalMs: config.healthIntervalMs,
        },
      ),
    );
  }
  await Promise.all([...runners.values()].map((r) => r.start()));
  await SinkStore.deactivateOthers(pool, [...runners.keys()]);

  dispatcher = new Dispatcher(
    pool,
    redis,
    [...runners.values()],
    {
      maxQueuedBatches: config.maxQueuedBatches,
      scanEvents: config.scanEvents,
      reconcileIntervalMs: config.reconcileIntervalMs,
      retryMs: Math.min(config.pollIntervalMs, 1000),
    },
    metrics,
    log,
  );
  const active = dispatcher;
  const listener = new LedgerListener(
    { ...config, applicationName: name },
    {
      onCommit: () => active.wake(),
      onControl: (sink) => {
        runners
          .get(sink)
          ?.refresh()
          .catch((err: unknown) => log.warn({ sink, err: messageOf(err) }, 'sink refresh failed'));
        active.wake(sink);
      },
      onLeadership: (leader) => {
        metrics.isDispatcher.set(leader ? 1 : 0);
        active.setActive(leader);
      },
    },
    log,
    config.pollIntervalMs,
  );
  await listener.start();
  // Redis came back (maybe empty): check the queues against Postgres at once
  redis.on('ready', () => active.reconcileSoon());

  const refreshStats = async () => {
    const health = await listSinkHealth(pool);
    for (const h of health) {
      const runner = runners.get(h.name);
      if (!runner) continue;
      const labels = { sink: h.name };
      metrics.lagEvents.set(labels, h.lagEvents);
      metrics.lagSeconds.set(labels, h.lagSeconds);
      metrics.deadLetters.set(labels, h.deadLetters);
      metrics.deliveredThrough.set(labels, h.deliveredThrough);
      metrics.enqueuedThrough.set(labels, h.enqueuedThrough);
      const counts = await runner.queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'prioritized',
      );
      for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ sink: h.name, state }, n);
    }
    const memory = /used_memory:(\d+)/.exec(await redis.info('memory'));
    if (memory) metrics.redisUsedMemory.set(Number(memory[1]));
  };

  const timers: NodeJS.Timeout[] = [];
  let stopping: Promise<void> | undefined;
  const every = (ms: number, what: string, fn: () => Promise<unknown>) => {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: unknown) => {
          if (!stopping) log.warn({ err: messageOf(err) }, `${what} failed`);
        })
        .finally(() => {
          running = false;
        });
    }, ms);
    t.unref();
    timers.push(t);
  };
  every(config.pollIntervalMs, 'poll', async () => active.wake());
  every(config.healthIntervalMs, 'stats', refreshStats);
  if (config.receiptDays > 0) {
    every(RECEIPT_PRUNE_INTERVAL_MS, 'receipt pruning', async () => {
      for (const r of runners.values()) await r.store.pruneReceipts(config.receiptDays);
    });
  }
  await refreshStats().catch(() => {});

  const readiness = async (): Promise<Readiness> => {
    try {
      await pool.query('SELECT 1');
    } catch {
      return { ready: false, reason: 'postgres_unreachable' };
    }
    try {
      await redis.ping();
    } catch {
      return { ready: false, reason: 'redis_unreachable' };
    }
    return { ready: true, detail: { dispatcher: listener.leader, sinks: runners.size } };
  };
  const probes = await startProbeServer({
    port: config.port,
    registry: metrics.registry,
    metricsBearer: config.metricsBearer,
    production: isProduction(config),
    health: () => (listener.connected ? { ready: true } : { ready: false, reason: 'postgres_listener_down' }),
    ready: readiness,
    realm: 'ledgerhub-forwarder',
  });
  log.info(
    {
      sinks: [...runners.keys()],
      port: probes.port,
      prefix: config.queuePrefix,
      dispatcher: listener.leader,
    },
    'forwarder started',
  );

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const stop = () => {
    stopping ??= (async () => {
      for (const t of timers) clearInterval(t);
      await listener.stop();
      await active.stop();
      await Promise.all([...runners.values()].map((r) => r.stop(config.shutdownTimeoutMs)));
      await probes.close();
      redis.disconnect();
      await pool.end().catch(() => {});
      log.info('forwarder stopped');
      resolveDone();
    })();
    return stopping;
  };

  return {
    port: probes.port,
    metrics,
    runners,
    isDispatcher: () => listener.leader,
    refreshStats,
    readiness,
    stop,
    done,
  };
}

async function requireSchema(pool: import('pg').Pool): Promise<void> {
  const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('forwarder_sinks')::text AS t");
  if (!rows[0]?.t) {
    throw new LedgerhubError(
      Errors.migrationFailed,
      'forwarder: the forwarder tables do not exist; run `ledgerhub migrate` first',
    );
  }
}

/** BullMQ is only correct when Redis never evicts its keys. */
async function warnOnEviction(redis: import('ioredis').Redis, log: Logger): Promise<void> {
  const policy = /maxmemory_policy:(\S+)/.exec(await redis.info('memory'))?.[1];
  if (policy && policy !== 'noeviction') {
    log.warn(
      { maxmemoryPolicy: policy },
      'Redis maxmemory-policy is not noeviction: queued jobs may be evicted (they are re-enqueued from Postgres, but set noeviction)',
    );
  }
}
