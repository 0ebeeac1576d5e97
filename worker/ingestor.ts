// The ingestion loop: read a batch, classify it, store it in one transaction (retrying transient errors,
// bisecting permanent ones), then dead-letter and acknowledge in one MULTI. A message is acknowledged
// only after its event committed or its dead letter was written. The next batch is read and classified
// while the current one is being stored.

import type { Redis } from 'ioredis';
import type pg from 'pg';
import { type AppendResult, appendBatch } from '../ledger/append-batch.ts';
import { describePgError, isPgUnreachable, isTransientPgError } from '../ledger/db.ts';
import { DeadLetterReason, reasonKind } from '../ledger/dead-letter.ts';
import type { PreparedRow } from '../ledger/prepare-event.ts';
import type { Logger } from '../ledger/runtime/log.ts';
import type { HmacKey, StreamEntry } from '../ledger/stream-codec.ts';
import type { Classifier } from './classifier.ts';
import type { Classified } from './classify.ts';
import type { WorkerMetrics } from './metrics.ts';
import {
  claimIdle,
  type DeadLetterItem,
  deadLetterAndAck,
  deliveryCounts,
  readGroup,
  type StreamNames,
} from './stream.ts';

export interface IngestorOptions {
  names: StreamNames;
  hmacKey: HmacKey | null;
  batchSize: number;
  blockMs: number;
  maxDeliveries: number;
  maxMessageBytes: number;
  claimIdleMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  notifyCommits: boolean;
}

interface Batch {
  classified: Classified[];
  /** Delivery count per stream id before this attempt (1 for a fresh read). */
  deliveries: Map<string, number>;
  classifyMs: number;
}

interface Settled {
  dead: DeadLetterItem[];
  ackIds: string[];
}

/** Batches read and classified ahead of the one being stored. */
const PREFETCH = 2;

interface StoreOutcome {
  stored: number;
  dead: DeadLetterItem[];
}

/** Thrown to abandon a batch without acknowledging it (shutdown while Postgres is unreachable). */
class Abandoned extends Error {}

export class Ingestor {
  readonly #redis: Redis;
  readonly #blocking: Redis;
  readonly #pool: pg.Pool;
  readonly #opts: IngestorOptions;
  readonly #metrics: WorkerMetrics;
  readonly #log: Logger;
  readonly #classifier: Classifier;
  #stopping = false;
  #pgDown = false;
  #redisDown = false;
  #loopError: Error | null = null;
  #inFlight = new Set<string>();
  #reclaimed: StreamEntry[] = [];
  #lastCommitSeq: number | null = null;
  #stored = 0;
  #wake: (() => void) | null = null;

  constructor(
    deps: {
      redis: Redis;
      blocking: Redis;
      pool: pg.Pool;
      metrics: WorkerMetrics;
      log: Logger;
      classifier: Classifier;
    },
    opts: IngestorOptions,
  ) {
    this.#classifier = deps.classifier;
    this.#redis = deps.redis;
    this.#blocking = deps.blocking;
    this.#pool = deps.pool;
    this.#metrics = deps.metrics;
    this.#log = deps.log;
    this.#opts = opts;
  }

  get postgresReachable(): boolean {
    return !this.#pgDown;
  }
  get redisReachable(): boolean {
    return !this.#redisDown;
  }
  get loopError(): Error | null {
    return this.#loopError;
  }
  get storedCount(): number {
    return this.#stored;
  }
  get lastLedgerSeq(): number | null {
    return this.#lastCommitSeq;
  }

  stop(): void {
    this.#stopping = true;
    this.#wake?.();
  }

  /**
   * Runs until stop(); drains this consumer's own pending messages first (left by a crash). Up to
   * PREFETCH batches are read and classified ahead, and a batch's acknowledgement overlaps the next
   * batch's transaction, so Postgres, Redis and the CPU work at the same time.
   */
  async run(): Promise<void> {
    try {
      await this.#drainOwnPending();
      const ahead: Promise<Batch | null>[] = [];
      const refill = () => {
        while (!this.#stopping && ahead.length < PREFETCH) ahead.push(this.#nextBatch());
      };
      refill();
      let acking: Promise<void> = Promise.resolve();
      while (ahead.length > 0) {
        const waitStart = performance.now();
        const batch = await ahead.shift()!;
        refill();
        if (!batch || batch.classified.length === 0) continue;
        const storeStart = performance.now();
        const settled = await this.#store(batch);
        const ackWaitStart = performance.now();
        await acking;
        this.#log.debug(
          {
            size: batch.classified.length,
            waitMs: Math.round(storeStart - waitStart),
            classifyMs: Math.round(batch.classifyMs),
            storeMs: Math.round(ackWaitStart - storeStart),
            ackWaitMs: Math.round(performance.now() - ackWaitStart),
          },
          'batch',
        );
        acking = this.#acknowledge(settled);
      }
      await acking;
    } catch (err) {
      if (err instanceof Abandoned) return;
      this.#loopError = err as Error;
      this.#log.error({ err }, 'ingestion loop stopped');
      throw err;
    }
  }

  /** Reclaims messages idle in any consumer's pending list; the main loop stores them next. */
  async reclaim(): Promise<number> {
    if (this.#stopping || this.#pgDown) return 0;
    const { entries, deleted } = await claimIdle(this.#redis, this.#opts.names, this.#opts.claimIdleMs);
    if (deleted.length > 0) {
      this.#metrics.lostPending.inc(deleted.length);
      this.#log.error(
        { ids: deleted.slice(0, 20), count: deleted.length },
        'pending messages vanished from the stream before they were stored',
      );
    }
    const fresh = entries.filter((e) => !this.#inFlight.has(e.streamId));
    if (fresh.length > 0) {
      this.#metrics.reclaimed.inc(fresh.length);
      this.#reclaimed.push(...fresh);
      this.#wake?.();
    }
    return fresh.length;
  }

  async #drainOwnPending(): Promise<void> {
    for (;;) {
      if (this.#stopping) return;
      const entries = await this.#withRedis(() =>
        readGroup(this.#redis, this.#opts.names, this.#opts.batchSize, null, '0'),
      );
      // entries already handled in this drain are acked; an empty read means the PEL is empty
      if (entries.length === 0) return;
      this.#log.info({ count: entries.length }, 'recovering pending messages from a previous run');
      await this.#acknowledge(await this.#store(await this.#classifyWithCounts(entries)));
    }
  }

  async #nextBatch(): Promise<Batch | null> {
    if (this.#reclaimed.length > 0) {
      const entries = this.#reclaimed.splice(0, this.#opts.batchSize);
      return this.#classifyWithCounts(entries);
    }
    if (this.#stopping) return null;
    let entries: StreamEntry[];
    try {
      entries = await this.#withRedis(() =>
        readGroup(this.#blocking, this.#opts.names, this.#opts.batchSize, this.#opts.blockMs, '>'),
      );
    } catch (err) {
      // stop() closes the reading connection to end a blocked read at once; whatever that read had
      // been handed stays pending and is recovered on the next start
      if (this.#stopping) return null;
      throw err;
    }
    for (const e of entries) this.#inFlight.add(e.streamId);
    return this.#classify(entries, new Map());
  }

  async #classifyWithCounts(entries: StreamEntry[]): Promise<Batch> {
    for (const e of entries) this.#inFlight.add(e.streamId);
    const counts = await this.#withRedis(() =>
      deliveryCounts(
        this.#redis,
        this.#opts.names,
        entries.map((e) => e.streamId),
      ),
    );
    return this.#classify(entries, counts);
  }

  async #classify(entries: StreamEntry[], deliveries: Map<string, number>): Promise<Batch> {
    const started = performance.now();
    const classified = entries.length === 0 ? [] : await this.#classifier.classify(entries);
    return { classified, deliveries, classifyMs: performance.now() - started };
  }

  /** Stores a batch's events; returns what to dead-letter and which stream ids to acknowledge. */
  async #store(batch: Batch): Promise<Settled> {
    const dead: DeadLetterItem[] = [];
    const events: PreparedRow[] = [];
    const entryOf = new Map<PreparedRow, StreamEntry>();
    for (const c of batch.classified) {
      const delivered = batch.deliveries.get(c.entry.streamId) ?? 1;
      if (c.kind === 'dead') {
        dead.push({ entry: c.entry, reason: c.reason });
      } else if (delivered > this.#opts.maxDeliveries) {
        // redelivered past the limit (e.g. it crashed a worker each time): park it, replayable
        dead.push({
          entry: c.entry,
          reason: DeadLetterReason.transientExceeded(`delivered ${delivered} times without being stored`),
        });
      } else {
        events.push(c.event);
        entryOf.set(c.event, c.entry);
      }
    }
    this.#metrics.batchSize.observe(batch.classified.length);
    let maxDelivered = 1;
    for (const n of batch.deliveries.values()) maxDelivered = Math.max(maxDelivered, n);
    const outcome =
      events.length > 0 ? await this.#storeEvents(events, entryOf, maxDelivered) : { stored: 0, dead: [] };
    dead.push(...outcome.dead);
    return { dead, ackIds: batch.classified.map((c) => c.entry.streamId) };
  }

  async #acknowledge(settled: Settled): Promise<void> {
    await this.#withRedis(() =>
      deadLetterAndAck(this.#redis, this.#opts.names, settled.dead, settled.ackIds),
    );
    for (const id of settled.ackIds) this.#inFlight.delete(id);
    this.#countDeadLetters(settled.dead);
  }

  #countDeadLetters(dead: DeadLetterItem[]): void {
    for (const d of dead) {
      const kind = reasonKind(d.reason);
      this.#metrics.dlqTotal.inc({ reason: kind });
      if (kind === 'json_parse_error') this.#metrics.parseErrors.inc();
      if (kind === 'hmac_verify_failed') this.#metrics.hmacFailures.inc();
      if (kind === 'tamper_on_replay') this.#metrics.tamperReplays.inc();
      this.#log.warn({ streamId: d.entry.streamId, reason: d.reason }, 'dead-lettered');
    }
  }

  /** Stores events, retrying transient errors and splitting a batch to isolate a permanently failing event. */
  async #storeEvents(
    events: PreparedRow[],
    entryOf: Map<PreparedRow, StreamEntry>,
    deliveredBefore: number,
  ): Promise<StoreOutcome> {
    let attempts = deliveredBefore - 1;
    let unreachableRetries = 0;
    for (;;) {
      try {
        const result = await this.#append(events);
        this.#markPg(true);
        return this.#outcome(result, entryOf);
      } catch (err) {
        if (isPgUnreachable(err)) {
          this.#markPg(false);
          if (this.#stopping) throw new Abandoned('shutting down while Postgres is unreachable');
          this.#log.warn(
            { err: describePgError(err) },
            'Postgres unreachable; holding the batch unacknowledged',
          );
          await this.#backoff(unreachableRetries++);
          continue;
        }
        this.#markPg(true);
        if (isTransientPgError(err)) {
          attempts++;
          this.#metrics.retries.inc();
          if (attempts >= this.#opts.maxDeliveries) {
            const reason = DeadLetterReason.transientExceeded(describePgError(err));
            return { stored: 0, dead: events.map((e) => ({ entry: entryOf.get(e)!, reason })) };
          }
          this.#log.warn(
            { err: describePgError(err), attempt: attempts },
            'transient Postgres error; retrying',
          );
          await this.#backoff(attempts);
          continue;
        }
        if (events.length === 1) {
          const reason = DeadLetterReason.pgPermanent(describePgError(err));
          return { stored: 0, dead: [{ entry: entryOf.get(events[0]!)!, reason }] };
        }
        const mid = Math.ceil(events.length / 2);
        const first = await this.#storeEvents(events.slice(0, mid), entryOf, deliveredBefore);
        const second = await this.#storeEvents(events.slice(mid), entryOf, deliveredBefore);
        return { stored: first.stored + second.stored, dead: [...first.dead, ...second.dead] };
      }
    }
  }

  async #append(events: PreparedRow[]): Promise<AppendResult> {
    const started = performance.now();
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      return await appendBatch(client, events, {
        hmacKey: this.#opts.hmacKey,
        consumer: this.#opts.names.consumer,
        notify: this.#opts.notifyCommits,
      });
    } catch (err) {
      if (isPgUnreachable(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
      this.#metrics.commitSeconds.observe((performance.now() - started) / 1000);
    }
  }

  #outcome(result: AppendResult, entryOf: Map<PreparedRow, StreamEntry>): StoreOutcome {
    this.#metrics.inserts.inc(result.stored.length);
    this.#metrics.duplicates.inc(result.duplicates.length);
    this.#stored += result.stored.length;
    if (result.lastSeq !== null) {
      this.#lastCommitSeq = result.lastSeq;
      this.#metrics.ledgerSeq.set(result.lastSeq);
    }
    for (const t of result.tampered) {
      this.#log.error(
        {
          eventId: t.event.id,
          zone: t.event.zone_id,
          stored: t.storedSha256,
          incoming: t.event.content_sha256,
        },
        'replay of a stored event id with different content refused',
      );
    }
    return {
      stored: result.stored.length,
      dead: result.tampered.map((t) => ({
        entry: entryOf.get(t.event)!,
        reason: DeadLetterReason.tamperOnReplay,
      })),
    };
  }

  #markPg(up: boolean): void {
    this.#pgDown = !up;
    this.#metrics.postgresUp.set(up ? 1 : 0);
  }

  /** Runs a Redis call, retrying with back-off while Redis is unreachable (nothing is lost meanwhile). */
  async #withRedis<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const v = await op();
        if (this.#redisDown) this.#log.info('Redis reachable again');
        this.#redisDown = false;
        this.#metrics.redisUp.set(1);
        return v;
      } catch (err) {
        if (!isRedisConnectionError(err)) throw err;
        // while stopping, a closed connection is our own doing (stop() ends the blocked read)
        if (!this.#redisDown && !this.#stopping)
          this.#log.warn({ err: (err as Error).message }, 'Redis unreachable; retrying');
        this.#redisDown = true;
        this.#metrics.redisUp.set(0);
        if (this.#stopping && attempt > 3) throw new Abandoned('shutting down while Redis is unreachable');
        await this.#backoff(attempt);
      }
    }
  }

  /** Full-jitter exponential back-off, cut short by stop(). */
  async #backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.#opts.retryMaxMs, this.#opts.retryBaseMs * 2 ** Math.min(attempt, 20));
    const delay = this.#stopping ? Math.min(cap, 200) : Math.random() * cap;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = null;
  }
}

function isRedisConnectionError(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string })?.code;
  return (
    /Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|MaxRetriesPerRequest|LOADING|ETIMEDOUT|connect/i.test(
      msg,
    ) ||
    (typeof code === 'string' && /^E[A-Z]+$/.test(code))
  );
}
