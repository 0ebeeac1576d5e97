// The controller: watch caches of AuditPolicies, AuditSinks, the objects the operator owns and Secrets;
// each watch event becomes work-queue keys (a policy, the sinks it lists, what a Secret feeds), and the
// queue's workers run the two reconcilers. A periodic resync re-queues everything from the caches.
import type { Logger } from '../ledger/runtime/log.ts';
import { AuditPolicySpec } from './api/audit-policy.ts';
import { AuditSinkSpec } from './api/audit-sink.ts';
import { AUDIT_POLICY, AUDIT_SINK } from './api/group.ts';
import { LABEL_POLICY, OWNED_SELECTOR } from './desired/names.ts';
import { policySecretRefs, sinkSecretRefs } from './desired/secret-inputs.ts';
import type { EventRecorder } from './kube/event-recorder.ts';
import { type ChangeKind, SupervisedInformer } from './kube/informers.ts';
import { ownedProjection, secretProjection, withoutBookkeeping } from './kube/projections.ts';
import { type KubeObject, RESOURCES, type ResourceType } from './kube/resources.ts';
import { KubeApiError, type KubeRest } from './kube/rest.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { LedgerProber } from './probes/ledger-prober.ts';
import { type Caches, type OwnedKind, SecretLookup } from './reconcile/caches.ts';
import type { AppliedRecord } from './reconcile/drift.ts';
import { type LedgerClaim, ledgerIdentity } from './reconcile/ledger-claims.ts';
import { ParsedSpecs } from './reconcile/parsed-specs.ts';
import { ApplyError, PolicyReconciler } from './reconcile/policy-reconciler.ts';
import { SecretRefIndex } from './reconcile/ref-index.ts';
import { listedSinks, SinkReconciler } from './reconcile/sink-reconciler.ts';
import { memoKey, WriteMemo } from './reconcile/write-memo.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerOptions {
  rest: KubeRest;
  log: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  prober: LedgerProber | undefined;
  workloadImage: string;
  /** Unset: all namespaces. */
  watchNamespace?: string;
  concurrency: number;
  coalesceMs: number;
  requeueBaseMs: number;
  requeueMaxMs: number;
  resyncMs: number;
}

const POLICY = 'P:';
const SINK = 'S:';

const OWNED: Record<OwnedKind, ResourceType> = {
  ConfigMap: RESOURCES.configMap,
  Deployment: RESOURCES.deployment,
  Service: RESOURCES.service,
  CronJob: RESOURCES.cronJob,
  Job: RESOURCES.job,
};

export class Controller {
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  readonly #informers: SupervisedInformer[] = [];
  readonly #policies: SupervisedInformer;
  readonly #sinks: SupervisedInformer;
  readonly #memo = new WriteMemo();
  readonly #applied = new Map<string, AppliedRecord>();
  readonly #policySpecs = new ParsedSpecs(AuditPolicySpec);
  readonly #sinkSpecs = new ParsedSpecs(AuditSinkSpec);
  readonly #refs = new SecretRefIndex();
  /** Secrets holding a policy's database URL: a change may move a ledger claim. */
  readonly #ledgerSecrets = new SecretRefIndex();
  /** The sinks each policy listed when last seen, to re-queue the sinks it dropped. */
  readonly #listed = new Map<string, string[]>();
  /** The ledger each policy claims (ledgerIdentity), to re-queue the policies a claim change concerns. */
  readonly #ledgers = new Map<string, string | undefined>();
  readonly #secrets: SupervisedInformer;
  readonly #policyReconciler: PolicyReconciler;
  readonly #sinkReconciler: SinkReconciler;
  #resync: NodeJS.Timeout | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    const { rest, log, metrics } = options;
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      coalesceMs: options.coalesceMs,
      requeueBaseMs: options.requeueBaseMs,
      requeueMaxMs: options.requeueMaxMs,
      onDepth: (depth) => metrics.queueDepth.set(depth),
    });
    const informer = (
      type: ResourceType,
      keep: (obj: KubeObject) => KubeObject,
      onChange: (obj: KubeObject, change: ChangeKind) => void,
      labelSelector?: string,
    ) => {
      const i = new SupervisedInformer(rest, {
        type,
        namespace: options.watchNamespace || undefined,
        labelSelector,
        keep,
        onChange,
        log,
        onRestart: (resource) => metrics.watchRestarts.inc({ resource }),
      });
      this.#informers.push(i);
      return i;
    };
    this.#policies = informer(RESOURCES.auditPolicy, withoutBookkeeping, (o, c) => this.#onPolicy(o, c));
    this.#sinks = informer(RESOURCES.auditSink, withoutBookkeeping, (o, c) => this.#onSink(o, c));
    const secrets = informer(RESOURCES.secret, secretProjection, (o) => this.#onSecret(o));
    this.#secrets = secrets;
    const owned = Object.fromEntries(
      Object.entries(OWNED).map(([kind, type]) => [
        kind,
        informer(type, ownedProjection, (o, c) => this.#onOwned(kind, o, c), OWNED_SELECTOR),
      ]),
    ) as Record<OwnedKind, SupervisedInformer>;
    const caches: Caches = { policies: this.#policies, sinks: this.#sinks, secrets, owned };
    const deps = {
      rest,
      caches,
      memo: this.#memo,
      applied: this.#applied,
      claims: () => this.#claims(),
      policySpecs: this.#policySpecs,
      sinkSpecs: this.#sinkSpecs,
      events: options.events,
      metrics,
      log,
      prober: options.prober,
      workloadImage: options.workloadImage,
    };
    this.#policyReconciler = new PolicyReconciler(deps);
    this.#sinkReconciler = new SinkReconciler(deps);
  }

  /** Starts every watch; resolves when all caches hold their whole collection. */
  async startWatches(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.start()));
  }

  get synced(): boolean {
    return this.#informers.every((i) => i.synced);
  }

  /** Runs the reconcile workers (the leader only) and the periodic resync. */
  startReconciling(): void {
    this.queue.start((key) => this.#process(key));
    if (this.#o.resyncMs > 0) {
      this.#resync = setInterval(() => this.requeueAll(), this.#o.resyncMs);
      this.#resync.unref();
    }
  }

  stopReconciling(): void {
    this.queue.stop();
    clearInterval(this.#resync);
  }

  async stop(): Promise<void> {
    this.stopReconciling();
    await Promise.all(this.#informers.map((i) => i.stop()));
  }

  requeueAll(): void {
    for (const p of this.#policies.list()) this.queue.add(POLICY + key(p));
    for (const s of this.#sinks.list()) this.queue.add(SINK + key(s));
  }

  /** A probe of a policy's ledger found something new: its status and its sinks' may change. */
  probeChanged(policyKey: string): void {
    this.queue.add(POLICY + policyKey);
    const [namespace = '', name = ''] = policyKey.split('/');
    const policy = this.#policies.get(namespace, name);
    for (const sink of policy ? listedSinks(policy) : []) this.queue.add(`${SINK}${namespace}/${sink}`);
  }

  async #process(queueKey: string): Promise<void> {
    const kind = queueKey.startsWith(POLICY) ? AUDIT_POLICY.kind : AUDIT_SINK.kind;
    const [namespace = '', name = ''] = queueKey.slice(2).split('/');
    const end = this.#o.metrics.reconcileSeconds.startTimer({ kind });
    try {
      if (kind === AUDIT_POLICY.kind) await this.#policyReconciler.reconcile(namespace, name);
      else await this.#sinkReconciler.reconcile(namespace, name);
      this.queue.forget(queueKey);
      this.#o.metrics.reconciles.inc({ kind, result: 'ok' });
    } catch (err) {
      const reason = err instanceof ApplyError || err instanceof KubeApiError ? err.reason : 'Internal';
      const retryInMs = this.queue.retry(queueKey);
      this.#o.metrics.reconciles.inc({ kind, result: 'error' });
      this.#o.metrics.reconcileErrors.inc({ kind, reason });
      this.#o.log.warn(
        { kind, namespace, name, reason, err: (err as Error).message, retryInMs },
        'reconcile failed',
      );
    } finally {
      end();
    }
  }

  #onPolicy(obj: KubeObject, change: ChangeKind): void {
    const k = key(obj);
    const namespace = obj.metadata.namespace ?? '';
    this.#memo.forgetObject(memoKey(AUDIT_POLICY.kind, namespace, obj.metadata.name));
    this.queue.add(POLICY + k);
    const parsed = this.#policySpecs.of(obj);
    const sinks = change === 'delete' ? [] : listedSinks(obj);
    for (const s of new Set([...(this.#listed.get(k) ?? []), ...sinks]))
      this.queue.add(`${SINK}${namespace}/${s}`);
    if (change === 'delete') {
      this.#policySpecs.forget(obj);
      this.#listed.delete(k);
      this.#refs.delete(POLICY + k);
      this.#ledgerSecrets.delete(POLICY + k);
    } else {
      this.#listed.set(k, sinks);
      this.#refs.set(
        POLICY + k,
        namespace,
        parsed.success ? policySecretRefs(parsed.data).map((r) => r.name) : [],
      );
      this.#ledgerSecrets.set(
        POLICY + k,
        namespace,
        parsed.success ? [parsed.data.ledger.postgresUrl.name] : [],
      );
    }
    this.#claimChanged(k, change === 'delete' ? undefined : obj);
  }

  /** Re-reads the ledger a policy claims; when it moved, the policies sharing either ledger decide again. */
  #claimChanged(k: string, policy: KubeObject | undefined): void {
    const before = this.#ledgers.get(k);
    const after = policy ? this.#ledgerOf(policy) : undefined;
    if (policy) this.#ledgers.set(k, after);
    else this.#ledgers.delete(k);
    if (before === after) return;
    for (const [other, ledger] of this.#ledgers) {
      if (other !== k && ledger !== undefined && (ledger === before || ledger === after))
        this.queue.add(POLICY + other);
    }
  }

  #claims(): LedgerClaim[] {
    const out: LedgerClaim[] = [];
    for (const [k, ledger] of this.#ledgers) {
      const [namespace = '', name = ''] = k.split('/');
      const policy = this.#policies.get(namespace, name);
      if (!policy || policy.metadata.deletionTimestamp) continue;
      out.push({ policy: k, creationTimestamp: policy.metadata.creationTimestamp ?? '', ledger });
    }
    return out;
  }

  #ledgerOf(policy: KubeObject): string | undefined {
    const ref = (policy['spec'] as { ledger?: { postgresUrl?: { name: string; key: string } } } | undefined)
      ?.ledger?.postgresUrl;
    if (!ref) return undefined;
    const url = new SecretLookup(this.#secrets, policy.metadata.namespace ?? '').value(ref);
    return url ? ledgerIdentity(url) : undefined;
  }

  #onSink(obj: KubeObject, change: ChangeKind): void {
    const namespace = obj.metadata.namespace ?? '';
    const k = key(obj);
    this.#memo.forgetObject(memoKey(AUDIT_SINK.kind, namespace, obj.metadata.name));
    this.queue.add(SINK + k);
    const parsed = this.#sinkSpecs.of(obj);
    if (change === 'delete') {
      this.#sinkSpecs.forget(obj);
      this.#refs.delete(SINK + k);
    } else
      this.#refs.set(
        SINK + k,
        namespace,
        parsed.success ? sinkSecretRefs(parsed.data).map((r) => r.name) : [],
      );
    for (const p of this.#policies.list(namespace)) {
      if (listedSinks(p).includes(obj.metadata.name)) this.queue.add(POLICY + key(p));
    }
  }

  #onSecret(obj: KubeObject): void {
    const namespace = obj.metadata.namespace ?? '';
    for (const owner of this.#refs.owners(namespace, obj.metadata.name)) {
      this.queue.add(owner);
      if (owner.startsWith(SINK)) {
        const sink = owner.slice(SINK.length).split('/')[1] ?? '';
        for (const p of this.#policies.list(namespace))
          if (listedSinks(p).includes(sink)) this.queue.add(POLICY + key(p));
      }
    }
    for (const owner of this.#ledgerSecrets.owners(namespace, obj.metadata.name)) {
      const [ns = '', name = ''] = owner.slice(POLICY.length).split('/');
      this.#claimChanged(owner.slice(POLICY.length), this.#policies.get(ns, name));
    }
  }

  #onOwned(kind: string, obj: KubeObject, change: ChangeKind): void {
    const namespace = obj.metadata.namespace ?? '';
    this.#memo.forgetObject(memoKey(kind, namespace, obj.metadata.name));
    if (change === 'delete') this.#applied.delete(memoKey(kind, namespace, obj.metadata.name));
    const policy = obj.metadata.labels?.[LABEL_POLICY];
    if (policy) this.queue.add(`${POLICY}${namespace}/${policy}`);
  }
}

function key(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}
