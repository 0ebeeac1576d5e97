// The dispatcher: per sink, reads the committed ledger after the sink's enqueued_through in commit
// order, cuts matching events into batches, records them in Postgres, then enqueues one BullMQ job per
// batch (deterministic id). Woken by commits, finished batches and timers, never by busy polling; stops
// while the sink's queue is full. Also re-enqueues what Redis lost and hands out replays.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { messageOf } from '../ledger/errors.ts';
import type { Logger } from '../ledger/runtime/log.ts';
import { type MatchedEvent, planBatches } from './batch-plan.ts';
import { BrinSummarizer } from './brin-summarizer.ts';
import { batchJobId, type DeliveryJob, replayJobId } from './delivery-job.ts';
import { commitsAfter, matchingEvents } from './ledger-reader.ts';
import type { ForwarderMetrics } from './metrics.ts';
import type { SinkRunner } from './sink-runner.ts';

export interface DispatcherOptions {
  maxQueuedBatches: number;
  scanEvents: number;
  reconcileIntervalMs: number;
  /** Back-off after a failed round (Postgres or Redis unreachable). */
  retryMs: number;
}

/** Marks that Redis still holds this forwarder's queues; gone after FLUSHALL or eviction. */
const SENTINEL = 'ledgerhub-queues';

export class Dispatcher {
  readonly #loops = new Map<string, SinkDispatch>();
  #active = false;

  constructor(
    pool: pg.Pool,
    redis: Redis,
    runners: SinkRunner[],
    opts: DispatcherOptions,
    metrics: ForwarderMetrics,
    log: Logger,
  ) {
    const summarizer = new BrinSummarizer(pool);
    for (const runner of runners) {
      this.#loops.set(
        runner.name,
        new SinkDispatch(pool, redis, runner, opts, metrics, log.child({ sink: runner.name }), summarizer),
      );
    }
  }

  /** Dispatching runs only while this replica holds the dispatch lock. */
  setActive(active: boolean): void {
    this.#active = active;
    for (const loop of this.#loops.values()) loop.setActive(active);
  }

  get active(): boolean {
    return this.#active;
  }

  wake(sink?: string): void {
    if (sink === undefined) for (const loop of this.#loops.values()) loop.wake();
    else this.#loops.get(sink)?.wake();
  }

  /** Checks Redis against Postgres now (e.g. after Redis reconnected). */
  reconcileSoon(): void {
    for (const loop of this.#loops.values()) loop.reconcileSoon();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#loops.values()].map((l) => l.stop()));
  }
}

class SinkDispatch {
  readonly #pool: pg.Pool;
  readonly #summarizer: BrinSummarizer;
  readonly #redis: Redis;
  readonly #runner: SinkRunner;
  readonly #opts: DispatcherOptions;
  readonly #metrics: ForwarderMetrics;
  readonly #log: Logger;
  readonly #sentinel: string;
  #active = false;
  #wanted = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastReconcile = 0;
  #stopped = false;

  constructor(
    pool: pg.Pool,
    redis: Redis,
    runner: SinkRunner,
    opts: DispatcherOptions,
    metrics: ForwarderMetrics,
    log: Logger,
    summarizer: BrinSummarizer,
  ) {
    this.#pool = pool;
    this.#summarizer = summarizer;
    this.#redis = redis;
    this.#runner = runner;
    this.#opts = opts;
    this.#metrics = metrics;
    this.#log = log;
    this.#sentinel = runner.queue.toKey(SENTINEL);
  }

  setActive(active: boolean): void {
    this.#active = active;
    if (active) {
      this.#lastReconcile = 0;
      this.wake();
    }
  }

  reconcileSoon(): void {
    this.#lastReconcile = 0;
    this.wake();
  }

  wake(): void {
    if (!this.#active || this.#stopped) return;
    this.#wanted = true;
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#wanted && this.#active && !this.#stopped) {
      this.#wanted = false;
      try {
        if (await this.#round()) this.#wanted = true;
      } catch (err) {
        this.#log.warn({ err: messageOf(err), retryInMs: this.#opts.retryMs }, 'dispatch round failed');
        this.#wakeIn(this.#opts.retryMs);
        return;
      }
    }
  }

  #wakeIn(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.wake(), ms);
    this.#timer.unref();
  }

  /** One round; true when there is more to do right away. */
  async #round(): Promise<boolean> {
    const runner = this.#runner;
    const labels = { sink: runner.name };
    if (
      Date.now() - this.#lastReconcile >= this.#opts.reconcileIntervalMs ||
      !(await this.#redis.exists(this.#sentinel))
    ) {
      await this.#reconcile();
    }
    await this.#handOutReplays();

    const cursor = await runner.store.cursor();
    this.#metrics.pendingBatches.set(labels, cursor.pendingBatches);
    this.#metrics.deliveredThrough.set(labels, cursor.deliveredThrough);
    this.#metrics.enqueuedThrough.set(labels, cursor.enqueuedThrough);
    const room = this.#opts.maxQueuedBatches - cursor.pendingBatches;
    if (room <= 0) {
      this.#metrics.backpressure.inc(labels);
      return false; // a finished batch wakes us
    }
    const after = cursor.enqueuedThrough;
    const window = await commitsAfter(this.#pool, after, this.#opts.scanEvents);
    const end = window.commits.at(-1)?.last ?? after;
    if (end <= after) return false;
    this.#summarizer.note(window.commits);
    await this.#summarizer.maybeRun();
    const { spec } = runner.entry;
    // a route without filters matches every seq: no need to read the events to plan
    const events = runner.route.matchesAll
      ? everySeq(after + 1, end, Math.ceil(runner.bytesPerEvent))
      : await matchingEvents(this.#pool, after + 1, end, window.commits, runner.route);
    const plan = planBatches({
      after,
      commits: window.commits,
      events,
      limits: { events: spec.batch.events, bytes: spec.batch.bytes },
      maxBatches: room,
      reachedHead: end >= window.head,
      slotFree: cursor.pendingBatches < spec.concurrency,
      nowMs: window.nowMs,
      waitMs: spec.batch.waitMs,
    });
    if (plan.tailDueInMs !== undefined) this.#wakeIn(plan.tailDueInMs + 1);
    if (plan.through === after) return false;
    if (!(await runner.store.planBatches(after, plan.batches, plan.through))) {
      this.#log.warn({ after }, 'another dispatcher planned this range; reading again');
      return true;
    }
    await runner.enqueue(
      plan.batches.map((b) => ({
        id: batchJobId(runner.name, b.first, b.last),
        data: { kind: 'batch', first: b.first, last: b.last, minUs: b.minUs, maxUs: b.maxUs },
      })),
    );
    if (plan.batches.length > 0) {
      this.#log.debug(
        { batches: plan.batches.length, first: plan.batches[0]?.first, last: plan.through },
        'batches enqueued',
      );
    }
    return plan.through < window.head && plan.batches.length < room;
  }

  /** Pending batches and replays whose job Redis no longer has (or failed for good) are enqueued again. */
  async #reconcile(): Promise<void> {
    const runner = this.#runner;
    const jobs: { id: string; data: DeliveryJob }[] = [
      ...(await runner.store.pendingBatches(this.#opts.maxQueuedBatches * 4)).map((b) => ({
        id: batchJobId(runner.name, b.first, b.last),
        data: {
          kind: 'batch',
          first: b.first,
          last: b.last,
          minUs: b.minUs,
          maxUs: b.maxUs,
        } satisfies DeliveryJob,
      })),
      ...(await runner.store.replaysInFlight()).map((r) => ({
        id: r.jobId,
        data: { kind: 'replay', seqs: r.seqs, minUs: r.minUs, maxUs: r.maxUs } satisfies DeliveryJob,
      })),
    ];
    const pipeline = this.#redis.pipeline();
    for (const j of jobs)
      pipeline.hget(runner.queue.toKey(j.id), 'finishedOn').exists(runner.queue.toKey(j.id));
    const replies = jobs.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const lost: typeof jobs = [];
    for (const [i, j] of jobs.entries()) {
      const finishedOn = replies[i * 2]?.[1];
      const exists = replies[i * 2 + 1]?.[1];
      if (exists === 1 && (finishedOn === null || finishedOn === undefined)) continue;
      if (exists === 1) await runner.queue.remove(j.id).catch(() => 0);
      lost.push(j);
    }
    if (lost.length > 0) {
      this.#log.warn(
        { jobs: lost.length, first: lost[0]?.id },
        'jobs missing from Redis; enqueued again from Postgres',
      );
      await runner.enqueue(lost);
    }
    await this.#redis.set(this.#sentinel, String(Date.now()));
    this.#lastReconcile = Date.now();
  }

  async #handOutReplays(): Promise<void> {
    const runner = this.#runner;
    const requested = await runner.store.replayRequests(runner.entry.spec.batch.events);
    if (requested.length === 0) return;
    const seqs = requested.map((r) => r.seq);
    const id = replayJobId(runner.name, seqs, Date.now());
    await runner.store.assignReplay(seqs, id);
    const occurred = requested.map((r) => r.occurredUs);
    await runner.enqueue([
      { id, data: { kind: 'replay', seqs, minUs: Math.min(...occurred), maxUs: Math.max(...occurred) } },
    ]);
    this.#log.info({ jobId: id, events: seqs.length }, 'replay enqueued');
    this.wake();
  }
}

function everySeq(from: number, to: number, bytes: number): MatchedEvent[] {
  const out: MatchedEvent[] = [];
  for (let seq = from; seq <= to; seq++) out.push({ seq, bytes });
  return out;
}
