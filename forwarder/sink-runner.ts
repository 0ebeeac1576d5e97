// One sink at run time: its BullMQ queue and worker pool (own concurrency, rate limit, retries with full
// jitter and Retry-After), its circuit breaker (pause the worker, probe with the oldest pending batch,
// resume), and its health record (breaker state at once, errors at a bounded rate).
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { messageOf } from '../ledger/errors.ts';
import type { Logger } from '../ledger/runtime/log.ts';
import type { ForwarderSinkEntry } from '../ledger/sinks/sinks-file.ts';
import { retryDelay } from './backoff.ts';
import { type AttemptResult, BatchDelivery } from './batch-delivery.ts';
import { type BreakerState, type BreakerTransition, CircuitBreaker } from './breaker.ts';
import { type DeliveryFailure, isRetryable } from './delivery-failure.ts';
import { type BatchJob, batchJobId, type DeliveryJob } from './delivery-job.ts';
import type { LedgerEventCache } from './event-cache.ts';
import { BREAKER_STATE_VALUE, type ForwarderMetrics } from './metrics.ts';
import { type CompiledRoute, compileRoute } from './route.ts';
import { SinkStore } from './sink-store.ts';
import { createSink } from './sinks/create-sink.ts';
import type { ReadSecret, Sink } from './sinks/sink.ts';

/** BullMQ needs a number; transient failures are retried this many times when the spec says forever. */
export const UNLIMITED_ATTEMPTS = 2 ** 31 - 1;
/** Stalls happen only when a replica dies mid-job; a stalled job is simply delivered again. */
const MAX_STALLED_COUNT = 1000;
/** What an event is assumed to weigh on the wire until the sink has sent some. */
const INITIAL_BYTES_PER_EVENT = 2048;
/** Weight of the newest batch in the bytes-per-event average. */
const BYTES_EWMA = 0.2;
/** Events kept in each queue's BullMQ event stream (nobody listens; keep it small). */
const EVENTS_STREAM_MAX = 100;

export interface RunnerOptions {
  prefix: string;
  lockDurationMs: number;
  keepJobs: number;
  keepJobsSeconds: number;
  healthIntervalMs: number;
}

export interface RunnerDeps {
  pool: pg.Pool;
  cache: LedgerEventCache;
  /** Shared by every queue and worker for ordinary commands; each worker also opens a blocking connection. */
  redis: Redis;
  readSecret: ReadSecret;
  metrics: ForwarderMetrics;
  log: Logger;
  /** Called when a batch finished, so the dispatcher can plan more. */
  onProgress: (sink: string) => void;
}

type JobData = DeliveryJob & { progress?: { delivered: number; deadLettered: number } };

/** Thrown to BullMQ for a retryable failure; the backoff strategy reads the delay from it. */
class DeliveryRetry extends Error {
  readonly delayMs: number;
  constructor(failure: DeliveryFailure, delayMs: number) {
    super(`${failure.kind} ${failure.code}: ${failure.message}`);
    this.name = 'DeliveryRetry';
    this.delayMs = delayMs;
  }
}

export class SinkRunner {
  readonly name: string;
  readonly entry: ForwarderSinkEntry;
  readonly store: SinkStore;
  readonly route: CompiledRoute;
  readonly queue: Queue;
  readonly sink: Sink;
  readonly breaker: CircuitBreaker;
  readonly #deps: RunnerDeps;
  readonly #opts: RunnerOptions;
  readonly #delivery: BatchDelivery;
  readonly #log: Logger;
  #worker: Worker | undefined;
  #workerRedis: Redis | undefined;
  #started = false;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;
  /**
   * Health writes (errors, breaker states) in the order they happen: a later state is never overwritten
   * by an earlier one, and a breaker shown open always has the error that opened it recorded.
   */
  #healthWrites: Promise<void> = Promise.resolve();
  #lastErrorWrite = 0;
  #lastErrorCode = '';
  #stopped = false;
  /** Serialized bytes per event this sink sends (moving average), for sizing batches. */
  bytesPerEvent = INITIAL_BYTES_PER_EVENT;

  constructor(entry: ForwarderSinkEntry, deps: RunnerDeps, opts: RunnerOptions) {
    this.name = entry.name;
    this.entry = entry;
    this.#deps = deps;
    this.#opts = opts;
    this.#log = deps.log.child({ sink: entry.name });
    this.store = new SinkStore(deps.pool, entry.name);
    this.route = compileRoute(entry.route);
    this.sink = createSink(entry, deps.readSecret);
    this.breaker = new CircuitBreaker(entry.spec.breaker);
    this.#delivery = new BatchDelivery({
      pool: deps.pool,
      cache: deps.cache,
      store: this.store,
      sink: this.sink,
      route: this.route,
      metrics: deps.metrics,
      log: this.#log,
    });
    const keep = { count: opts.keepJobs, age: opts.keepJobsSeconds };
    this.queue = new Queue(entry.name, {
      connection: deps.redis,
      prefix: opts.prefix,
      streams: { events: { maxLen: EVENTS_STREAM_MAX } },
      defaultJobOptions: {
        attempts: entry.spec.retry.maxAttempts === 0 ? UNLIMITED_ATTEMPTS : entry.spec.retry.maxAttempts,
        backoff: { type: 'ledgerhub' },
        removeOnComplete: keep,
        removeOnFail: keep,
      },
    });
    this.queue.on('error', (err) => this.#log.warn({ err: messageOf(err) }, 'queue error'));
    deps.metrics.breakerState.set({ sink: this.name }, 0);
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** Registers the sink, checks it, and starts delivering (unless it is disabled). */
  async start(): Promise<void> {
    const { spec } = this.entry;
    await this.store.register({ type: spec.type, format: this.sink.format, backfill: spec.backfill });
    const cursor = await this.store.cursor();
    // in the background: an unreachable sink must not hold up the others' start
    void this.#checkAtStart();
    // workers wait on Redis indefinitely (BullMQ requires maxRetriesPerRequest: null); BullMQ opens its
    // blocking connection from this one
    this.#workerRedis = this.#deps.redis.duplicate({
      maxRetriesPerRequest: null,
      connectionName: `${this.name}-worker`,
    });
    this.#workerRedis.on('error', () => {});
    this.#worker = new Worker(this.name, (job, token) => this.#process(job, token), {
      connection: this.#workerRedis,
      prefix: this.#opts.prefix,
      autorun: false,
      concurrency: spec.concurrency,
      lockDuration: this.#opts.lockDurationMs,
      stalledInterval: this.#opts.lockDurationMs,
      maxStalledCount: MAX_STALLED_COUNT,
      ...(spec.rateLimit
        ? { limiter: { max: spec.rateLimit.requests, duration: spec.rateLimit.periodMs } }
        : {}),
      settings: {
        backoffStrategy: (_made, _type, err) => (err instanceof DeliveryRetry ? err.delayMs : 1000),
      },
    });
    this.#worker.on('error', (err) => this.#log.warn({ err: messageOf(err) }, 'worker error'));
    this.#worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.#log.error(
          { jobId: job.id, err: err.message },
          'job failed for good; reconcile will enqueue it again',
        );
      }
    });
    if (cursor.disabled) {
      this.#apply(this.breaker.disable(), 'disabled at start');
      return;
    }
    await this.store.setBreaker('closed');
    this.#run();
  }

  async #checkAtStart(): Promise<void> {
    const problem = await this.sink.check();
    if (problem) {
      this.#log.warn({ error: problem }, 'sink check at start failed');
      this.#recordError(problem);
    } else {
      this.#log.info({ type: this.entry.spec.type, format: this.sink.format }, 'sink check at start passed');
    }
  }

  /** The sink's row changed (re-enabled, replay asked for): act on it. */
  async refresh(): Promise<void> {
    const cursor = await this.store.cursor();
    if (!cursor.disabled && this.breaker.state === 'disabled') {
      this.#log.info('sink re-enabled');
      this.#apply(this.breaker.enable(), 're-enabled');
    }
  }

  async enqueue(jobs: { id: string; data: DeliveryJob }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((j) => ({ name: j.data.kind, data: j.data, opts: { jobId: j.id } })));
  }

  async stop(timeoutMs: number): Promise<void> {
    this.#stopped = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    const worker = this.#worker;
    if (worker) {
      const closed = worker.close();
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([closed, timer])) === 'timeout') {
        this.#log.warn({ timeoutMs }, 'deliveries still in flight at shutdown; they will be delivered again');
        await worker.close(true).catch(() => {});
      }
    }
    await this.sink.close();
    await this.queue.close().catch(() => {});
    this.#workerRedis?.disconnect();
  }

  #run(): void {
    if (!this.#worker || this.#started || this.#stopped) return;
    this.#started = true;
    this.#worker.run().catch((err: unknown) => this.#log.error({ err: messageOf(err) }, 'worker stopped'));
  }

  async #process(job: Job, token: string | undefined): Promise<unknown> {
    const data = job.data as JobData;
    const attempt = job.attemptsMade + 1;
    const maxAttempts = this.entry.spec.retry.maxAttempts;
    const started = performance.now();
    const result = await this.#delivery.attempt(job.id!, data, {
      attempt,
      lastAttempt: maxAttempts > 0 && attempt >= maxAttempts,
      breakerClosed: this.breaker.allowsDelivery,
      ...(data.progress ? { earlier: data.progress } : {}),
    });
    this.#deps.metrics.attemptSeconds.observe(
      { sink: this.name, outcome: result.outcome },
      (performance.now() - started) / 1000,
    );
    this.#onResult(result);
    if (result.sent.events > 0) {
      const bpe = result.sent.bytes / result.sent.events;
      this.bytesPerEvent = (1 - BYTES_EWMA) * this.bytesPerEvent + BYTES_EWMA * bpe;
    }
    if (result.outcome === 'finished' || result.outcome === 'skipped') {
      this.#deps.onProgress(this.name);
      return { outcome: result.outcome, accepted: result.accepted, deadLettered: result.deadLettered };
    }
    await job.updateData({
      ...data,
      remaining: result.remaining,
      progress: {
        delivered: (data.progress?.delivered ?? 0) + result.accepted,
        deadLettered: (data.progress?.deadLettered ?? 0) + result.deadLettered,
      },
    });
    const f = result.failure!;
    if (result.outcome === 'held') {
      // the sink is paused or disabled: wait without spending an attempt
      await job.moveToDelayed(Date.now() + this.entry.spec.breaker.probeIntervalMs, token);
      throw new DelayedError();
    }
    throw new DeliveryRetry(f, retryDelay(attempt, this.entry.spec.retry, f.retryAfterMs));
  }

  /** Feeds an attempt's outcome to the breaker, metrics and sink health. */
  #onResult(result: AttemptResult): void {
    const f = result.failure;
    const now = Date.now();
    if (result.outcome === 'skipped') return;
    if (f && f.kind !== 'data') this.#deps.metrics.errors.inc({ sink: this.name, kind: f.kind });
    if (result.outcome === 'finished') {
      if (f && (f.kind === 'auth' || f.kind === 'config')) {
        this.#apply(this.breaker.trip(now), `${f.code}: ${f.message}`);
      } else {
        this.#apply(this.breaker.onSuccess(), 'delivered');
      }
      return;
    }
    if (!f) return;
    if (f.kind === 'gone') {
      this.#healthWrites = this.#healthWrites
        .then(() => this.store.disable(f))
        .catch((err: unknown) => this.#log.warn({ err: messageOf(err) }, 'cannot record disabling'));
      this.#apply(this.breaker.disable(), f.message);
      return;
    }
    this.#recordError(f);
    if (result.outcome === 'retry' && isRetryable(f.kind)) {
      this.#apply(this.breaker.onFailure(now, f.retryAfterMs), `${f.code}: ${f.message}`);
    } else {
      this.#apply(this.breaker.trip(now), `${f.code}: ${f.message}`);
    }
  }

  /** Writes the last error to sink health: a new kind of error at once, the same one at most once per interval. */
  #recordError(f: DeliveryFailure): void {
    const now = Date.now();
    if (f.code === this.#lastErrorCode && now - this.#lastErrorWrite < this.#opts.healthIntervalMs) return;
    this.#lastErrorWrite = now;
    this.#lastErrorCode = f.code;
    this.#healthWrites = this.#healthWrites
      .then(() => this.store.recordError(f))
      .catch((err: unknown) => this.#log.warn({ err: messageOf(err) }, 'cannot record sink error'));
  }

  #apply(transition: BreakerTransition | null, why: string): void {
    if (!transition) return;
    const { to } = transition;
    this.#deps.metrics.breakerState.set({ sink: this.name }, BREAKER_STATE_VALUE[to]);
    if (to !== 'disabled') {
      this.#healthWrites = this.#healthWrites
        .then(() => this.store.setBreaker(to))
        .catch((err: unknown) => this.#log.warn({ err: messageOf(err) }, 'cannot record breaker state'));
    }
    const worker = this.#worker;
    if (to === 'open' || to === 'disabled') {
      this.#log.warn(
        { from: transition.from, to, why, nextProbeAt: to === 'open' ? this.breaker.nextProbeAt : undefined },
        'sink paused',
      );
      if (worker?.isRunning() && !worker.isPaused()) void worker.pause(true).catch(() => {});
      if (to === 'open') this.#scheduleProbe();
    } else if (to === 'closed') {
      this.#log.info({ from: transition.from, why }, 'sink delivering');
      if (this.#probeTimer) clearTimeout(this.#probeTimer);
      if (!this.#started) this.#run();
      else if (worker?.isPaused()) worker.resume();
    }
  }

  #scheduleProbe(): void {
    if (this.#stopped || this.#probing) return;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(
      () => void this.#probe(),
      Math.max(1, this.breaker.nextProbeAt - Date.now() + 1),
    );
    this.#probeTimer.unref();
  }

  /** One request while paused: the oldest pending batch, or the sink's check when nothing is pending. */
  async #probe(): Promise<void> {
    if (this.#stopped || this.breaker.state !== 'open') return;
    if (!this.breaker.beginProbe(Date.now())) {
      this.#scheduleProbe(); // the timer fired a little early
      return;
    }
    this.#probing = true;
    this.#apply({ from: 'open', to: 'half_open' }, 'probe');
    try {
      const [pending] = await this.store.pendingBatches(1);
      if (!pending) {
        const problem = await this.sink.check();
        if (problem && problem.kind !== 'data') {
          this.#probing = false;
          this.#onResult({
            outcome: 'retry',
            accepted: 0,
            deadLettered: 0,
            remaining: [],
            requests: 1,
            sent: { events: 0, bytes: 0 },
            failure: problem,
          });
        } else {
          this.#probing = false;
          this.#apply(this.breaker.onSuccess(), 'probe: check passed');
        }
        return;
      }
      const jobId = batchJobId(this.name, pending.first, pending.last);
      const queued = (await this.queue.getJob(jobId))?.data as JobData | undefined;
      const data: JobData = queued ?? ({ kind: 'batch', ...pending } satisfies BatchJob);
      const result = await this.#delivery.attempt(jobId, data, {
        attempt: 1,
        lastAttempt: false,
        breakerClosed: false,
        ...(data.progress ? { earlier: data.progress } : {}),
      });
      this.#probing = false;
      this.#log.info({ jobId, outcome: result.outcome, error: result.failure }, 'probe done');
      this.#onResult(result);
      if (result.outcome === 'finished') this.#deps.onProgress(this.name);
    } catch (err) {
      this.#probing = false;
      this.#log.warn({ err: messageOf(err) }, 'probe could not run');
      this.#apply(this.breaker.onFailure(Date.now()), 'probe error');
    } finally {
      this.#probing = false;
      if (this.breaker.state === 'open') this.#scheduleProbe();
    }
  }
}
