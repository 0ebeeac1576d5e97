// Fault switches shared by every stand-in: outages, slowness, scripted failure answers and credential
// revocation, undone by reset(). Protocol-specific switches extend the class next to their receiver.
import type { LoopbackServer, OutageMode } from './http-server.ts';
import type { RetryAfter } from './reply.ts';

export interface FailurePlan {
  status: number;
  /** A string is sent as text/plain, anything else as JSON; omitted means the product's own body for `status`. */
  body?: unknown;
  retryAfter?: RetryAfter;
  headers?: Record<string, string>;
}

export type SlowPhase =
  /** Do the work (store events, issue ack ids), then wait before answering: a timed-out client retries work that was done. */
  | 'after-processing'
  /** Wait before reading the request: nothing is stored if the client gives up. */
  | 'before-processing';

export interface CredentialSwitch {
  revokeAll(): void;
  restore(): void;
}

/** A one-shot plan that waits, armed, for the first request it applies to. */
export class ArmedPlan<P> {
  #plan: P | undefined;

  arm(plan: P): void {
    this.#plan = plan;
  }

  /** Hands out the plan (and disarms) when `appliesTo` accepts it. */
  takeIf(appliesTo: (plan: P) => boolean): P | undefined {
    const plan = this.#plan;
    if (plan === undefined || !appliesTo(plan)) return undefined;
    this.#plan = undefined;
    return plan;
  }

  get armed(): boolean {
    return this.#plan !== undefined;
  }

  disarm(): void {
    this.#plan = undefined;
  }
}

export class FaultSwitches {
  readonly #server: LoopbackServer;
  readonly #credentials: CredentialSwitch;
  readonly #resetHooks: (() => void)[] = [];
  #slow: { ms: number; phase: SlowPhase } | undefined;
  #failures: { remaining: number; plan: FailurePlan }[] = [];

  constructor(server: LoopbackServer, credentials: CredentialSwitch) {
    this.#server = server;
    this.#credentials = credentials;
  }

  /** Drops open connections and refuses (default) or resets new ones until {@link up}. */
  down(mode: OutageMode = 'refuse'): Promise<void> {
    return this.#server.down(mode);
  }

  /** Serves again on the same port. */
  up(): Promise<void> {
    return this.#server.up();
  }

  get isDown(): boolean {
    return this.#server.isDown;
  }

  /** Delays every answer by `ms` (0 turns it off). */
  slow(ms: number, phase: SlowPhase = 'after-processing'): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`slow: ms must be >= 0, got ${ms}`);
    this.#slow = ms === 0 ? undefined : { ms, phase };
  }

  /**
   * The next `n` delivery requests (HEC /event and /ack, ES _bulk, every webhook POST) are answered
   * with `plan` before any other check, and nothing is stored. Plans queue in call order.
   */
  failNext(n: number, plan: FailurePlan): void {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`failNext: n must be a positive integer, got ${n}`);
    this.#failures.push({ remaining: n, plan });
  }

  /** Every credential the receiver accepts starts failing authentication, until reset(). */
  badCredentials(): void {
    this.#credentials.revokeAll();
  }

  /** Pending scripted failures not yet served. */
  get pendingFailures(): number {
    return this.#failures.reduce((sum, f) => sum + f.remaining, 0);
  }

  /** Clears every switch: back up, no delay, no scripted failures, the start-up credentials. */
  async reset(): Promise<void> {
    this.#slow = undefined;
    this.#failures = [];
    this.#credentials.restore();
    for (const hook of this.#resetHooks) hook();
    await this.#server.up();
  }

  /** For the request pipeline: the scripted failure this request must get, if any. */
  takeFailure(): FailurePlan | undefined {
    const head = this.#failures[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) this.#failures.shift();
    return head.plan;
  }

  /** For the request pipeline: how long to wait at `phase`. */
  delayAt(phase: SlowPhase): number {
    return this.#slow?.phase === phase ? this.#slow.ms : 0;
  }

  /** For subclasses: extra state reset() must restore. */
  protected onReset(hook: () => void): void {
    this.#resetHooks.push(hook);
  }
}
