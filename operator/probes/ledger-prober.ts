// Probes every tracked ledger off the reconcile path: a new or changed target at once, then every
// interval, a bounded number at a time, one Redis connection per URL. A result that changes what status
// would say is reported, so the reconciler runs only when there is something new to write.
import type { Redis } from 'ioredis';
import { createRedis } from '../../ledger/redis.ts';
import { stableJson } from '../desired/checksum.ts';
import { type LedgerProbeResult, type LedgerTarget, probePostgres, probeRedis } from './ledger-probe.ts';

export interface ProberOptions {
  intervalMs: number;
  timeoutMs: number;
  concurrency: number;
  /** A tracked key's result changed (the first result counts as a change). */
  onChange: (key: string) => void;
  onProbe?: (seconds: number, ok: boolean) => void;
}

interface Tracked {
  target: LedgerTarget;
  targetId: string;
  dueAt: number;
  result?: LedgerProbeResult;
  running: boolean;
}

const TICK_MS = 200;

export class LedgerProber {
  readonly #options: ProberOptions;
  readonly #tracked = new Map<string, Tracked>();
  readonly #redis = new Map<string, Redis>();
  /** The last connection error of each Redis client ("Connection is closed" says less). */
  readonly #redisErrors = new Map<string, string>();
  #running = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ProberOptions) {
    this.#options = options;
  }

  /** Starts probing a key's ledger, or re-probes at once when its target changed. */
  track(key: string, target: LedgerTarget): void {
    const targetId = stableJson(target);
    const current = this.#tracked.get(key);
    if (current && current.targetId === targetId) return;
    this.#tracked.set(key, { target, targetId, dueAt: 0, running: false });
    this.#schedule(0);
  }

  untrack(key: string): void {
    this.#tracked.delete(key);
    this.#closeUnusedRedis();
  }

  result(key: string): LedgerProbeResult | undefined {
    return this.#tracked.get(key)?.result;
  }

  target(key: string): LedgerTarget | undefined {
    return this.#tracked.get(key)?.target;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const r of this.#redis.values()) r.disconnect();
    this.#redis.clear();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), ms);
    this.#timer.unref();
  }

  #tick(): void {
    const now = Date.now();
    for (const [key, t] of this.#tracked) {
      if (this.#running >= this.#options.concurrency) break;
      if (t.running || t.dueAt > now) continue;
      t.running = true;
      this.#running++;
      void this.#probe(key, t).finally(() => {
        t.running = false;
        this.#running--;
        t.dueAt = Date.now() + this.#options.intervalMs;
        this.#schedule(0);
      });
    }
    let next = Number.POSITIVE_INFINITY;
    for (const t of this.#tracked.values()) if (!t.running) next = Math.min(next, t.dueAt);
    if (next !== Number.POSITIVE_INFINITY) this.#schedule(Math.max(TICK_MS, next - now));
  }

  async #probe(key: string, t: Tracked): Promise<void> {
    const started = performance.now();
    const redis = this.#redisFor(t.target.redisUrl);
    const [r, p] = await Promise.all([
      probeRedis(redis, t.target, this.#options.timeoutMs),
      probePostgres(t.target, this.#options.timeoutMs),
    ]);
    const result: LedgerProbeResult = {
      redis: r.ok
        ? r
        : {
            ok: false,
            error: `Redis at ${where(t.target.redisUrl)}: ${this.#redisErrors.get(t.target.redisUrl) ?? r.error}`,
          },
      postgres: p.ok ? p : { ok: false, error: `Postgres at ${where(t.target.databaseUrl)}: ${p.error}` },
    };
    if (!r.ok) this.#dropRedis(t.target.redisUrl);
    this.#options.onProbe?.((performance.now() - started) / 1000, r.ok && p.ok);
    if (this.#tracked.get(key) !== t) return;
    const changed = !t.result || stableJson(t.result) !== stableJson(result);
    t.result = result;
    if (changed) this.#options.onChange(key);
  }

  #redisFor(url: string): Redis {
    let r = this.#redis.get(url);
    if (!r) {
      r = createRedis(url, 'ledgerhub-operator', {
        connectTimeout: this.#options.timeoutMs,
        commandTimeout: this.#options.timeoutMs,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: true,
      });
      r.on('error', (err: Error) => this.#redisErrors.set(url, err.message));
      r.on('ready', () => this.#redisErrors.delete(url));
      this.#redis.set(url, r);
    }
    return r;
  }

  #dropRedis(url: string): void {
    this.#redis.get(url)?.disconnect();
    this.#redis.delete(url);
    this.#redisErrors.delete(url);
  }

  #closeUnusedRedis(): void {
    const used = new Set([...this.#tracked.values()].map((t) => t.target.redisUrl));
    for (const url of this.#redis.keys()) if (!used.has(url)) this.#dropRedis(url);
  }
}

/** host:port of a connection URL, for messages (never the credentials). */
function where(url: string): string {
  try {
    return new URL(url).host || '(no host)';
  } catch {
    return '(unparseable URL)';
  }
}
