// Fault injection switches for tests: drop or stall watch streams, expire the next watches (410), expire
// continue tokens and watch history, fail the next N matching requests with a chosen status, and add
// latency. The server consults these before handling each request.
import { type ApiError, ApiErrors } from './api-errors.ts';
import type { RequestRecord, Verb } from './request-log.ts';

export interface RequestMatch {
  verb?: Verb | readonly Verb[];
  /** plural resource name, e.g. "configmaps" or "auditpolicies" */
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** substring of, or pattern for, the URL path */
  path?: string | RegExp;
}

export interface InjectedFailure extends RequestMatch {
  status: number;
  /** how many matching requests fail (default 1) */
  count?: number;
  message?: string;
  /** sent as Retry-After and in details.retryAfterSeconds (429/503) */
  retryAfterSeconds?: number;
}

export type WatchDropMode = 'close' | 'reset';
export type ExpiryMode = 'event' | 'http';

/** The parts of the server a fault acts on. */
export interface FaultTargets {
  dropWatches(mode: WatchDropMode): number;
  setWatchesStalled(stalled: boolean): void;
  expireContinueTokens(): void;
  compactHistory(resource?: string): void;
}

function matches(match: RequestMatch, request: RequestRecord): boolean {
  if (
    match.verb !== undefined &&
    !(typeof match.verb === 'string' ? [match.verb] : match.verb).includes(request.verb)
  ) {
    return false;
  }
  if (match.resource !== undefined && request.resource !== match.resource) return false;
  if (match.subresource !== undefined && request.subresource !== match.subresource) return false;
  if (match.namespace !== undefined && request.namespace !== match.namespace) return false;
  if (match.name !== undefined && request.name !== match.name) return false;
  if (match.path !== undefined) {
    if (typeof match.path === 'string' ? !request.path.includes(match.path) : !match.path.test(request.path))
      return false;
  }
  return true;
}

export class FaultSwitches {
  readonly #targets: FaultTargets;
  #failures: (InjectedFailure & { remaining: number })[] = [];
  #latencies: { ms: number; match: RequestMatch }[] = [];
  #expiries: ExpiryMode[] = [];
  #stalled = false;

  constructor(targets: FaultTargets) {
    this.#targets = targets;
  }

  /** Ends every open watch stream: cleanly ('close', the default) or by resetting the connection. */
  dropWatches(options: { mode?: WatchDropMode } = {}): number {
    return this.#targets.dropWatches(options.mode ?? 'close');
  }

  /** Keeps watch streams open but sends nothing (no events, bookmarks or timeouts) until resumed. */
  stallWatches(): void {
    this.#stalled = true;
    this.#targets.setWatchesStalled(true);
  }

  resumeWatches(): void {
    this.#stalled = false;
    this.#targets.setWatchesStalled(false);
  }

  get watchesStalled(): boolean {
    return this.#stalled;
  }

  /**
   * The next `count` watch requests are answered with 410 Expired: as an in-stream ERROR event followed by
   * the end of the stream ('event', what a real apiserver does), or as an HTTP 410 response ('http').
   */
  expireNextWatches(count = 1, options: { as?: ExpiryMode } = {}): void {
    for (let i = 0; i < count; i++) this.#expiries.push(options.as ?? 'event');
  }

  /** Forgets the watch history of one resource (plural) or all, so any resumed watch gets 410. */
  compactHistory(resource?: string): void {
    this.#targets.compactHistory(resource);
  }

  /** Forgets every list snapshot, so the next continue token answers 410. */
  expireContinueTokens(): void {
    this.#targets.expireContinueTokens();
  }

  /** The next `count` (default 1) requests matching answer `status` with a Status body. */
  failNext(failure: InjectedFailure): void {
    this.#failures.push({ ...failure, remaining: failure.count ?? 1 });
  }

  /** Adds `ms` of latency before every matching request (all requests when no match is given). */
  addLatency(ms: number, match: RequestMatch = {}): void {
    this.#latencies.push({ ms, match });
  }

  /** Removes every pending failure, latency and expiry, and resumes stalled watches. */
  clear(): void {
    this.#failures = [];
    this.#latencies = [];
    this.#expiries = [];
    if (this.#stalled) this.resumeWatches();
  }

  /** For the server: the latency to add before handling this request. */
  latencyFor(request: RequestRecord): number {
    return this.#latencies.filter((l) => matches(l.match, request)).reduce((sum, l) => sum + l.ms, 0);
  }

  /** For the server: an injected failure for this request, consuming one. */
  takeFailure(request: RequestRecord): { error: ApiError; retryAfterSeconds?: number } | undefined {
    const failure = this.#failures.find((f) => f.remaining > 0 && matches(f, request));
    if (!failure) return undefined;
    failure.remaining--;
    this.#failures = this.#failures.filter((f) => f.remaining > 0);
    const message = failure.message ?? `injected failure (${failure.status})`;
    const result: { error: ApiError; retryAfterSeconds?: number } = {
      error: ApiErrors.injected(failure.status, message, failure.retryAfterSeconds),
    };
    if (failure.retryAfterSeconds !== undefined) result.retryAfterSeconds = failure.retryAfterSeconds;
    return result;
  }

  /** For the watch hub: whether this watch is to be expired, and how. */
  takeExpiry(): ExpiryMode | undefined {
    return this.#expiries.shift();
  }
}
