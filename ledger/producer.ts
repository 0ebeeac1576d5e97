// The producer client: emit() never blocks or throws; a background flusher batches signed XADDs,
// spills batches to disk while Redis is unreachable, replays spill files on start and on recovery,
// and counts everything it had to drop.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
}

export type DropReason = 'invalid_event' | 'queue_full' | 'spill_full' | 'spill_failed';

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
  #queue: Frame[] = [];
  #flushing: Promise<void> | null = null;
  #closed = false;
  #redisUp = true;
  #spillBytes = 0;
  #stats = {
    emitted: 0,
    sent: 0,
    spilled: 0,
    replayed: 0,
    dropped: { invalid_event: 0, queue_full: 0, spill_full: 0, spill_failed: 0 } as Record<
      DropReason,
      number
    >,
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
    if (this.#spillDir) mkdirSync(this.#spillDir, { recursive: true });
    this.#timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 50);
    this.#timer.unref();
  }

  /** Replays spill files left by an earlier run (call once after construction). */
  async start(): Promise<number> {
    return this.#replaySpill();
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
    const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    const outcome = await Promise.race([this.flush().then(() => 'done' as const), deadline]);
    if (outcome === 'timeout' || this.#queue.length > 0) {
      const rest = this.#queue.splice(0);
      if (rest.length > 0) await this.#spill(rest);
    }
    return this.stats();
  }

  async #flushAll(): Promise<void> {
    if (this.#redisUp && this.#spillDir) await this.#replaySpill();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      if (await this.#send(batch)) continue;
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
    if (!this.#redisUp && !(await this.#probe())) return false;
    try {
      const pipeline = this.#redis.pipeline();
      for (const f of frames)
        pipeline.xadd(this.#stream, '*', ...encodeStreamFields(f.id, f.data, this.#key));
      const results = await pipeline.exec();
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

  async #probe(): Promise<boolean> {
    try {
      await this.#redis.ping();
      this.#redisUp = true;
    } catch {
      this.#redisUp = false;
    }
    return this.#redisUp;
  }

  async #spill(frames: Frame[]): Promise<void> {
    if (!this.#spillDir) {
      for (const f of frames) this.#drop(f.id, 'queue_full');
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
