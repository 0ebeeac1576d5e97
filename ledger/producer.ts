// The producer client: emit() never blocks or throws; a background flusher batches signed XADDs,
// spills batches to disk while Redis is unreachable, replays spill files on start and on recovery,
// and counts everything it had to drop.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { AuditEventInput } from './event.ts';
import type { HmacKey } from './stream-codec.ts';
import { encodeStreamFields } from './stream-codec.ts';

export interface ProducerOptions {
  redis: Redis;
  stream: string;
  hmacKey: HmacKey | null;
  /** Events held in memory before new ones are dropped. */
  maxQueue?: number;
  /** Events per XADD pipeline. */
  batchSize?: number;
  /** How often the queue is flushed. */
  flushIntervalMs?: number;
  /** Where batches go while Redis is unreachable; null disables spilling (then they wait in memory). */
  spillDir?: string | null;
  /** Disk budget for spill files; beyond it batches are dropped and counted. */
  maxSpillBytes?: number;
  onDrop?: (eventId: string | undefined, reason: DropReason) => void;
  /** A Redis command slower than this counts as failed, so a dead connection is noticed quickly. */
  commandTimeoutMs?: number;
}

/** Why an event was not sent: refused at emit, no room in memory or on disk, or unsent at close. */
export type DropReason = 'invalid_event' | 'queue_full' | 'spill_full' | 'spill_failed' | 'redis_unreachable';

export interface ProducerStats {
  emitted: number;
  sent: number;
  spilled: number;
  replayed: number;
  dropped: Record<DropReason, number>;
  queueDepth: number;
  spillBytes: number;
  redisUp: boolean;
}

interface Frame {
  id: string;
  data: string;
}

const SPILL_SUFFIX = '.ndjson';

export class AuditProducer {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #key: HmacKey | null;
  readonly #maxQueue: number;
  readonly #batchSize: number;
  readonly #spillDir: string | null;
  readonly #maxSpillBytes: number;
  readonly #onDrop: ProducerOptions['onDrop'];
  readonly #timer: NodeJS.Timeout;
  readonly #commandTimeoutMs: number;
  #queue: Frame[] = [];
  /** The batch #flushAll is sending right now. */
  #sending: Frame[] | null = null;
  /** Batches close() spilled while a send was waiting for a connection: that send must not happen. */
  readonly #abandoned = new WeakSet<Frame[]>();
  #flushing: Promise<void> | null = null;
  #closed = false;
  #redisUp = true;
  #spillBytes = 0;
  #stats = {
    emitted: 0,
    sent: 0,
    spilled: 0,
    replayed: 0,
    dropped: {
      invalid_event: 0,
      queue_full: 0,
      spill_full: 0,
      spill_failed: 0,
      redis_unreachable: 0,
    } as Record<DropReason, number>,
  };

  constructor(opts: ProducerOptions) {
    this.#redis = opts.redis;
    this.#stream = opts.stream;
    this.#key = opts.hmacKey;
    this.#maxQueue = opts.maxQueue ?? 10_000;
    this.#batchSize = opts.batchSize ?? 500;
    this.#spillDir = opts.spillDir ?? null;
    this.#maxSpillBytes = opts.maxSpillBytes ?? 256 * 1024 * 1024;
    this.#onDrop = opts.onDrop;
    this.#commandTimeoutMs = opts.commandTimeoutMs ?? 1000;
    if (this.#spillDir) mkdirSync(this.#spillDir, { recursive: true });
    this.#timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 50);
    this.#timer.unref();
  }

  /** Replays spill files left by an earlier run (call once after construction). */
  async start(): Promise<number> {
    if (!this.#spillDir) return 0;
    for (const name of await readdir(this.#spillDir)) {
      if (name.startsWith('spill-')) this.#spillBytes += (await stat(join(this.#spillDir, name))).size;
    }
    return (await this.#connected()) && (await this.#probe()) ? this.#replaySpill() : 0;
  }

  /** Queues one event. Returns false (and counts the drop) when it cannot be accepted. */
  emit(event: AuditEventInput): boolean {
    this.#stats.emitted++;
    const id = typeof event?.id === 'string' ? event.id : undefined;
    if (this.#closed || !id || typeof event.zone_id !== 'string' || typeof event.occurred_at !== 'string') {
      return this.#drop(id, 'invalid_event');
    }
    let data: string;
    try {
      data = JSON.stringify(event);
    } catch {
      return this.#drop(id, 'invalid_event');
    }
    if (this.#queue.length >= this.#maxQueue) return this.#drop(id, 'queue_full');
    this.#queue.push({ id, data });
    if (this.#queue.length >= this.#batchSize) void this.flush();
    return true;
  }

  stats(): ProducerStats {
    return {
      ...this.#stats,
      dropped: { ...this.#stats.dropped },
      queueDepth: this.#queue.length,
      spillBytes: this.#spillBytes,
      redisUp: this.#redisUp,
    };
  }

  /** Sends (or spills) everything queued so far. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushAll().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  /** Stops accepting events, flushes with a deadline, and spills whatever could not be sent. */
  async close(timeoutMs = 2000): Promise<ProducerStats> {
    this.#closed = true;
    clearInterval(this.#timer);
    const until = Date.now() + timeoutMs;
    const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    let outcome: 'done' | 'timeout' = 'done';
    do {
      outcome = await Promise.race([this.flush().then(() => 'done' as const), deadline]);
      // without a spill directory, unsent events wait in memory: give Redis until the deadline
      if (outcome === 'done' && this.#queue.length > 0) {
        this.#redisUp = true;
        await Promise.race([this.#connected(), deadline]);
      }
    } while (outcome === 'done' && this.#queue.length > 0 && Date.now() < until);
    if (outcome === 'timeout' || this.#queue.length > 0) {
      // the batch being sent may or may not have reached Redis: keep it too (ids make a repeat harmless)
      if (this.#sending) this.#abandoned.add(this.#sending);
      const rest = [...(this.#sending ?? []), ...this.#queue.splice(0)];
      this.#sending = null;
      if (rest.length > 0) await this.#spill(rest);
    }
    return this.stats();
  }

  async #flushAll(): Promise<void> {
    if (this.#spillDir && this.#spillBytes > 0 && (this.#redisUp || (await this.#probe())))
      await this.#replaySpill();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#sending = batch;
      const sent = await this.#send(batch);
      if (this.#sending !== batch) return; // close() took the batch over
      this.#sending = null;
      if (sent) continue;
      if (this.#spillDir) {
        await this.#spill(batch);
      } else {
        // no spill directory: keep them in memory (bounded by maxQueue) and try again next tick
        const room = Math.max(0, this.#maxQueue - this.#queue.length);
        for (const f of batch.slice(room)) this.#drop(f.id, 'queue_full');
        this.#queue.unshift(...batch.slice(0, room));
        return;
      }
    }
  }

  async #send(frames: Frame[]): Promise<boolean> {
    // never hand commands to a disconnected client: it would queue them and send them on reconnect,
    // after this batch went to the spill file as well
    if (!(await this.#connected())) return false;
    if (!this.#redisUp && !(await this.#probe())) return false;
    if (this.#abandoned.has(frames)) return false; // close() spilled this batch while we waited
    try {
      const pipeline = this.#redis.pipeline();
      for (const f of frames)
        pipeline.xadd(this.#stream, '*', ...encodeStreamFields(f.id, f.data, this.#key));
      const results = await this.#withinTimeout(pipeline.exec());
      const failed = results?.findIndex(([err]) => err) ?? -1;
      if (!results || failed !== -1) {
        // the frames before the failure are in the stream; only the rest go elsewhere
        const sent = failed === -1 ? 0 : failed;
        this.#stats.sent += sent;
        frames.splice(0, sent);
        this.#redisUp = false;
        return false;
      }
      this.#stats.sent += frames.length;
      return true;
    } catch {
      this.#redisUp = false;
      return false;
    }
  }

  /**
   * Whether the client is connected. While Redis is believed up, a client still (re)connecting gets
   * commandTimeoutMs to finish; once Redis is known down, the answer is immediate.
   */
  async #connected(): Promise<boolean> {
    if (this.#redis.status === 'ready') return true;
    if (this.#redisUp && this.#redis.status !== 'end') {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, this.#commandTimeoutMs);
        this.#redis.once('ready', done);
      });
    }
    if ((this.#redis.status as string) === 'ready') return true;
    this.#redisUp = false;
    return false;
  }

  async #probe(): Promise<boolean> {
    if (this.#redis.status !== 'ready') {
      this.#redisUp = false;
      return false;
    }
    try {
      await this.#withinTimeout(this.#redis.ping());
      this.#redisUp = true;
    } catch {
      this.#redisUp = false;
    }
    return this.#redisUp;
  }

  /** A command that has not answered within commandTimeoutMs counts as failed (clients queue while disconnected). */
  #withinTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not answer in time')), this.#commandTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  async #spill(frames: Frame[]): Promise<void> {
    if (!this.#spillDir) {
      // only close() gets here without a spill directory: Redis never came back in time
      for (const f of frames) this.#drop(f.id, 'redis_unreachable');
      return;
    }
    const text = `${frames.map((f) => JSON.stringify({ id: f.id, data: f.data })).join('\n')}\n`;
    if (this.#spillBytes + text.length > this.#maxSpillBytes) {
      for (const f of frames) this.#drop(f.id, 'spill_full');
      return;
    }
    const file = join(
      this.#spillDir,
      `spill-${Date.now()}-${process.pid}-${randomBytes(3).toString('hex')}${SPILL_SUFFIX}`,
    );
    try {
      await appendFile(file, text, { mode: 0o600 });
      const handle = await open(file, 'r');
      await handle.sync();
      await handle.close();
      this.#spillBytes += text.length;
      this.#stats.spilled += frames.length;
    } catch {
      for (const f of frames) this.#drop(f.id, 'spill_failed');
    }
  }

  /** Sends every spill file, oldest first; a file is claimed by renaming so two replayers never share one. */
  async #replaySpill(): Promise<number> {
    if (!this.#spillDir) return 0;
    let replayed = 0;
    const files = (await readdir(this.#spillDir))
      .filter((f) => f.startsWith('spill-') && f.endsWith(SPILL_SUFFIX))
      .sort();
    for (const name of files) {
      const claimed = join(this.#spillDir, `${name}.replaying-${process.pid}`);
      try {
        await rename(join(this.#spillDir, name), claimed);
      } catch {
        continue; // another process took it
      }
      const text = await readFile(claimed, 'utf8');
      const frames: Frame[] = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Frame);
      for (let i = 0; i < frames.length; i += this.#batchSize) {
        const chunk = frames.slice(i, i + this.#batchSize);
        if (!(await this.#send(chunk))) {
          // #send leaves the unsent frames in `chunk`; they and the rest of the file wait for next time
          const rest = [...chunk, ...frames.slice(i + this.#batchSize)];
          await writeFile(join(this.#spillDir, name), `${rest.map((f) => JSON.stringify(f)).join('\n')}\n`, {
            mode: 0o600,
          });
          await rm(claimed, { force: true });
          return replayed;
        }
        replayed += chunk.length;
        this.#stats.replayed += chunk.length;
      }
      this.#spillBytes = Math.max(0, this.#spillBytes - Buffer.byteLength(text));
      await rm(claimed, { force: true });
    }
    return replayed;
  }

  #drop(id: string | undefined, reason: DropReason): false {
    this.#stats.dropped[reason]++;
    this.#onDrop?.(id, reason);
    return false;
  }
}
