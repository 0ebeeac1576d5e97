// Leader election on a coordination.k8s.io Lease, as client-go does it: a candidate takes the Lease when
// it is free or its holder has not renewed within leaseDuration (timed by this replica's own clock from
// when it last saw the record change); the leader renews every retryPeriod and steps down when it could
// not renew for renewDeadline. Writes use the Lease's resourceVersion, so two candidates cannot both win.
import type { Logger } from '../../ledger/runtime/log.ts';
import { type KubeObject, RESOURCES } from './resources.ts';
import { isConflict, isNotFound, type KubeRest } from './rest.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** MicroTime: RFC 3339 with six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #rest: KubeRest;
  readonly #o: LeaderElectionOptions;
  #leading = false;
  #stopped = false;
  #observed: { record: string; at: number } | undefined;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;

  constructor(rest: KubeRest, options: LeaderElectionOptions) {
    this.#rest = rest;
    this.#o = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    this.#loop = this.#tick();
  }

  /** Stops campaigning; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#loop;
    if (this.#leading) {
      this.#leading = false;
      await this.#release().catch((err: unknown) =>
        this.#o.log.warn({ err: (err as Error).message }, 'lease not released'),
      );
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const now = Date.now();
    let held = false;
    try {
      held = await this.#tryAcquireOrRenew(now);
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message, lease: this.#o.name }, 'lease request failed');
    }
    if (held) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#o.log.info({ identity: this.#o.identity, lease: this.#o.name }, 'became leader');
        this.#o.onStartedLeading();
      }
    } else if (this.#leading && Date.now() - this.#lastRenew >= this.#o.renewDeadlineMs) {
      this.#leading = false;
      this.#o.log.warn(
        { identity: this.#o.identity, lease: this.#o.name },
        'lost leadership: could not renew the lease',
      );
      this.#o.onStoppedLeading();
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#loop = this.#tick();
    }, this.#o.retryPeriodMs);
  }

  async #tryAcquireOrRenew(now: number): Promise<boolean> {
    const { namespace, name, identity } = this.#o;
    const durationSeconds = Math.round(this.#o.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.#rest.get<Lease>(RESOURCES.lease, namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.#rest.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      this.#observed = undefined;
      return true;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
    if (!this.#observed || this.#observed.record !== record) this.#observed = { record, at: now };
    const holder = spec.holderIdentity ?? '';
    const mine = holder === identity;
    const ttl = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (!mine && holder !== '' && this.#observed.at + ttl > now) return false;
    const next: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, resourceVersion: lease.metadata.resourceVersion },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      await this.#rest.replace(next);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async #release(): Promise<void> {
    const lease = await this.#rest.get<Lease>(RESOURCES.lease, this.#o.namespace, this.#o.name);
    if (lease.spec?.holderIdentity !== this.#o.identity) return;
    await this.#rest.replace({
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) },
    });
  }
}
