// The per-sink circuit breaker as a pure state machine (time passed in): after N consecutive failed
// attempts, or at once on a sink-level refusal, the sink is paused; one probe is let through per
// interval (doubling up to a ceiling); a successful probe closes it. `disabled` (410 Gone) never probes.

export type BreakerState = 'closed' | 'open' | 'half_open' | 'disabled';

export interface BreakerOptions {
  failureThreshold: number;
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
}

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
}

export class CircuitBreaker {
  readonly #opts: BreakerOptions;
  #state: BreakerState = 'closed';
  #failures = 0;
  #interval: number;
  #nextProbeAt = 0;

  constructor(opts: BreakerOptions) {
    this.#opts = opts;
    this.#interval = opts.probeIntervalMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** When the next probe may start (epoch ms); meaningful while open. */
  get nextProbeAt(): number {
    return this.#nextProbeAt;
  }

  /** Whether regular deliveries may run (closed). */
  get allowsDelivery(): boolean {
    return this.#state === 'closed';
  }

  /** A delivery or probe got through: close. */
  onSuccess(): BreakerTransition | null {
    this.#failures = 0;
    this.#interval = this.#opts.probeIntervalMs;
    if (this.#state === 'disabled') return null;
    return this.#move('closed');
  }

  /**
   * A retryable failure. Closed: counts, and opens at the threshold. Half-open (the probe failed):
   * opens again with a doubled interval. `retryAfterMs` pushes the next probe out when the sink asked.
   */
  onFailure(now: number, retryAfterMs?: number): BreakerTransition | null {
    this.#failures += 1;
    if (this.#state === 'closed') {
      if (this.#failures < this.#opts.failureThreshold) return null;
      return this.#open(now, retryAfterMs);
    }
    if (this.#state === 'half_open') {
      this.#interval = Math.min(this.#opts.maxProbeIntervalMs, this.#interval * 2);
      return this.#open(now, retryAfterMs);
    }
    return null;
  }

  /** A sink-level refusal (credentials, configuration, missing Secret): open at once. */
  trip(now: number): BreakerTransition | null {
    this.#failures += 1;
    if (this.#state === 'disabled') return null;
    if (this.#state === 'half_open')
      this.#interval = Math.min(this.#opts.maxProbeIntervalMs, this.#interval * 2);
    return this.#open(now, undefined);
  }

  /** Open and due: move to half-open and let one probe through (true). */
  beginProbe(now: number): boolean {
    if (this.#state !== 'open' || now < this.#nextProbeAt) return false;
    this.#move('half_open');
    return true;
  }

  /** 410 Gone: stop delivering and probing until enable(). */
  disable(): BreakerTransition | null {
    return this.#move('disabled');
  }

  enable(): BreakerTransition | null {
    if (this.#state !== 'disabled') return null;
    this.#failures = 0;
    this.#interval = this.#opts.probeIntervalMs;
    return this.#move('closed');
  }

  #open(now: number, retryAfterMs: number | undefined): BreakerTransition | null {
    this.#nextProbeAt = now + Math.max(this.#interval, retryAfterMs ?? 0);
    return this.#move('open');
  }

  #move(to: BreakerState): BreakerTransition | null {
    const from = this.#state;
    this.#state = to;
    return from === to ? null : { from, to };
  }
}
