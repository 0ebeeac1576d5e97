// The reconcile work queue: a key is queued at most once and never processed by two workers at once; it
// runs once it has been quiet for `coalesceMs` (but no later than MAX_WAIT_FACTOR x that after its first
// change), so a burst of changes makes a handful of reconciles, not one each; failures are retried with
// capped exponential back-off.

export interface WorkQueueOptions {
  concurrency: number;
  coalesceMs: number;
  requeueBaseMs: number;
  requeueMaxMs: number;
  /** Called with the queue depth whenever it changes (for a gauge). */
  onDepth?: (depth: number) => void;
  now?: () => number;
}

export type Processor = (key: string) => Promise<void>;

/** A key changing without pause still runs after at most this many quiet windows. */
export const MAX_WAIT_FACTOR = 20;

interface Pending {
  /** When the earliest unprocessed change arrived. */
  firstAt: number;
  readyAt: number;
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #now: () => number;
  readonly #waiting = new Map<string, Pending>();
  readonly #processing = new Set<string>();
  /** Keys changed while processing: queued again when processing ends. */
  readonly #dirty = new Map<string, Pending>();
  readonly #failures = new Map<string, number>();
  #process: Processor | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = true;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The key changed: it runs once quiet for coalesceMs, or when it has waited too long. */
  add(key: string): void {
    const now = this.#now();
    const quiet = this.#options.coalesceMs;
    const table = this.#processing.has(key) ? this.#dirty : this.#waiting;
    const pending = table.get(key);
    if (pending) pending.readyAt = Math.min(pending.firstAt + quiet * MAX_WAIT_FACTOR, now + quiet);
    else table.set(key, { firstAt: now, readyAt: now + quiet });
    this.#depthChanged();
    this.#pump();
  }

  /** Queues a key again after a failure, waiting longer each consecutive time; returns the wait. */
  retry(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = Math.min(
      this.#options.requeueMaxMs,
      this.#options.requeueBaseMs * 2 ** Math.min(failures - 1, 30),
    );
    const now = this.#now();
    const table = this.#processing.has(key) ? this.#dirty : this.#waiting;
    const pending = table.get(key);
    if (pending) pending.readyAt = Math.min(pending.readyAt, now + delay);
    else table.set(key, { firstAt: now, readyAt: now + delay });
    this.#depthChanged();
    this.#pump();
    return delay;
  }

  /** Clears a key's failure count (after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Drops a key that no longer exists. */
  remove(key: string): void {
    this.#waiting.delete(key);
    this.#dirty.delete(key);
    this.#failures.delete(key);
    this.#depthChanged();
  }

  get depth(): number {
    return this.#waiting.size + this.#dirty.size;
  }

  start(process: Processor): void {
    this.#process = process;
    this.#stopped = false;
    this.#pump();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /** Resolves when nothing is queued or being processed (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.depth === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    if (this.#stopped || !this.#process) return;
    const now = this.#now();
    let nextAt = Number.POSITIVE_INFINITY;
    for (const [key, waiting] of this.#waiting) {
      if (this.#processing.size >= this.#options.concurrency) break;
      if (waiting.readyAt > now) {
        nextAt = Math.min(nextAt, waiting.readyAt);
        continue;
      }
      this.#waiting.delete(key);
      this.#run(key);
    }
    if (this.#processing.size < this.#options.concurrency) this.#arm(nextAt);
    this.#depthChanged();
  }

  #arm(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#pump();
      },
      Math.max(0, at - this.#now()),
    );
  }

  #run(key: string): void {
    this.#processing.add(key);
    const process = this.#process!;
    void process(key)
      .catch(() => {})
      .finally(() => {
        this.#processing.delete(key);
        const dirty = this.#dirty.get(key);
        if (dirty !== undefined) {
          this.#dirty.delete(key);
          this.#waiting.set(key, dirty);
        }
        this.#pump();
        this.#notifyIdle();
      });
  }

  #depthChanged(): void {
    this.#options.onDepth?.(this.depth);
  }

  #notifyIdle(): void {
    if (this.depth > 0 || this.#processing.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
