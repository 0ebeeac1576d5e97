// Reconciles one AuditPolicy: resolves its Secrets and sinks from the watch caches, decides whether it
// may run its ledger, applies what changed of the objects it owns (server-side apply), deletes what it
// no longer needs, and writes status and Events only when they differ from what is there.
import type { Logger } from '../../ledger/runtime/log.ts';
import type { ForwarderSinkEntry } from '../../ledger/sinks/sinks-file.ts';
import type { AuditPolicySpec, AuditPolicyStatus, JobResult } from '../api/audit-policy.ts';
import type { AuditSinkSpec } from '../api/audit-sink.ts';
import type { Condition } from '../api/condition.ts';
import { API_VERSION, AUDIT_POLICY } from '../api/group.ts';
import { contentHash, stableJson } from '../desired/checksum.ts';
import {
  ANNOTATION_APPLIED,
  LABEL_COMPONENT,
  LABEL_POLICY,
  objectName,
  type ScheduledComponent,
} from '../desired/names.ts';
import { policyObjects, replicasOf, runningComponents, scheduleOf } from '../desired/policy-objects.ts';
import { policySecretRefs, refKey, sinkSecretRefs } from '../desired/secret-inputs.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import { type KubeObject, resourceOf } from '../kube/resources.ts';
import type { KubeRest } from '../kube/rest.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { LedgerProber } from '../probes/ledger-prober.ts';
import { eventsFor, kubeTime, transitions } from '../status/conditions.ts';
import { type PolicyObservations, policyStatus, type SinkObservation } from '../status/policy-status.ts';
import { type Caches, type OwnedKind, SecretLookup } from './caches.ts';
import { type AppliedRecord, appliedRecord, isUpToDate } from './drift.ts';
import { type LedgerClaim, ledgerHolder, ledgerIdentity } from './ledger-claims.ts';
import type { ParsedSpecs } from './parsed-specs.ts';
import { memoKey, type WriteMemo } from './write-memo.ts';

export interface AuditPolicyObject extends KubeObject {
  spec?: unknown;
  status?: AuditPolicyStatus;
}

export interface ReconcilerDeps {
  rest: KubeRest;
  caches: Caches;
  memo: WriteMemo;
  /** What the operator's own applies produced, per owned object (memoKey). */
  applied: Map<string, AppliedRecord>;
  /** The ledger every known policy claims (kept by the controller from watch events). */
  claims: () => LedgerClaim[];
  policySpecs: ParsedSpecs<typeof AuditPolicySpec>;
  sinkSpecs: ParsedSpecs<typeof AuditSinkSpec>;
  events: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  /** Undefined when ledger probing is off. */
  prober: LedgerProber | undefined;
  workloadImage: string;
  now?: () => number;
}

/** A reconcile that applied some objects and failed on others: retried with back-off. */
export class ApplyError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'ApplyError';
    this.reason = reason;
  }
}

const PRUNED_KINDS: OwnedKind[] = ['ConfigMap', 'Deployment', 'Service', 'CronJob'];

interface PlanItem {
  kind: string;
  name: string;
  hash: string;
}

export class PolicyReconciler {
  readonly #d: ReconcilerDeps;
  /** Per policy: the inputs of the last build and the hashes of the objects it made. */
  readonly #plans = new Map<string, { inputs: string; items: PlanItem[] }>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const { caches, prober } = this.#d;
    const key = `${namespace}/${name}`;
    const policy = caches.policies.get<AuditPolicyObject>(namespace, name);
    if (!policy || policy.metadata.deletionTimestamp) {
      prober?.untrack(key);
      this.#plans.delete(key);
      this.#clearGauges(namespace, name);
      return;
    }
    const generation = policy.metadata.generation ?? 0;
    const parsed = this.#d.policySpecs.of(policy);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `spec.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
      await this.#writeStatus(policy, this.#blocked(generation, 'InvalidSpec', message));
      return;
    }
    const spec = parsed.data;
    const secrets = new SecretLookup(caches.secrets, namespace);

    const missing = policySecretRefs(spec).filter((r) => !secrets.has(r));
    const redisUrl = secrets.value(spec.ledger.redisUrl);
    const databaseUrl = secrets.value(spec.ledger.postgresUrl);
    if (prober && redisUrl && databaseUrl) {
      prober.track(key, {
        redisUrl,
        databaseUrl,
        stream: spec.ledger.stream,
        dlqStream: spec.ledger.dlqStream,
      });
    } else prober?.untrack(key);

    const conflict = this.#conflict(policy, databaseUrl);
    const { sinks, runnable } = this.#sinks(namespace, spec);

    let observations: PolicyObservations;
    let failure: ApplyError | undefined;
    if (conflict) {
      failure = await this.#prune(policy, new Set()).then(
        () => undefined,
        (err: unknown) => new ApplyError('PruneFailed', (err as Error).message),
      );
      observations = this.#blocked(generation, 'Conflict', conflict);
    } else if (missing.length > 0) {
      const list = [...new Set(missing.map(refKey))].join(', ');
      observations = this.#blocked(generation, 'SecretNotFound', `Secret key(s) not found: ${list}`);
    } else {
      const hashes = new Map<string, string>();
      for (const ref of [
        ...policySecretRefs(spec),
        ...runnable.flatMap((r) => sinkSecretRefs(r.entry.spec)),
      ]) {
        hashes.set(refKey(ref), secrets.hash(ref) ?? '');
      }
      const image = spec.image ?? this.#d.workloadImage;
      const inputs = [
        policy.metadata.uid,
        generation,
        image,
        ...runnable.map((r) => r.version),
        ...[...hashes].map(([k, v]) => `${k}=${v}`),
      ].join('|');
      const build = () =>
        policyObjects({
          policy: { name, namespace, uid: policy.metadata.uid ?? '' },
          spec,
          image,
          sinks: runnable.map((r) => r.entry),
          secretHashes: hashes,
        }).map(withAppliedHash);
      const applied = new Set<string>();
      try {
        await this.#applyPlan(policy, inputs, build, applied);
      } catch (err) {
        failure = err instanceof ApplyError ? err : new ApplyError('ApplyFailed', (err as Error).message);
      }
      observations = this.#observe(policy, spec, sinks, applied);
      if (failure) observations.applyError = { reason: failure.reason, message: failure.message };
    }
    const status = await this.#writeStatus(policy, observations);
    this.#setGauges(namespace, name, status);
    if (failure) throw failure;
  }

  #blocked(
    generation: number,
    reason: 'InvalidSpec' | 'Conflict' | 'SecretNotFound',
    message: string,
  ): PolicyObservations {
    return {
      generation,
      blocker: { reason, message },
      workloads: [],
      schedules: [],
      exportConfigured: false,
      jobs: {},
      sinks: [],
      probe: undefined,
      probed: this.#d.prober !== undefined,
    };
  }

  /** The holder's name when another policy holds this policy's ledger. */
  #conflict(policy: AuditPolicyObject, databaseUrl: string | undefined): string | undefined {
    const ledger = databaseUrl ? ledgerIdentity(databaseUrl) : undefined;
    if (!ledger) return undefined;
    const self = `${policy.metadata.namespace}/${policy.metadata.name}`;
    const claims = this.#d.claims().filter((c) => c.policy !== self);
    claims.push({ policy: self, creationTimestamp: policy.metadata.creationTimestamp ?? '', ledger });
    const holder = ledgerHolder(claims, ledger);
    if (!holder || holder.policy === self) return undefined;
    return `the ledger ${ledger} is already run by AuditPolicy ${holder.policy}; this policy runs nothing until it points at another database`;
  }

  /** Each listed sink's state, and the entries (with their versions) of those the forwarder can run. */
  #sinks(
    namespace: string,
    spec: AuditPolicySpec,
  ): { sinks: SinkObservation[]; runnable: { entry: ForwarderSinkEntry; version: string }[] } {
    const secrets = new SecretLookup(this.#d.caches.secrets, namespace);
    const sinks: SinkObservation[] = [];
    const runnable: { entry: ForwarderSinkEntry; version: string }[] = [];
    for (const entry of spec.sinks) {
      const name = entry.sinkRef.name;
      const sink = this.#d.caches.sinks.get(namespace, name);
      if (!sink || sink.metadata.deletionTimestamp) {
        sinks.push({ name, problem: { reason: 'SinkNotFound', message: `AuditSink ${name} not found` } });
        continue;
      }
      const parsed = this.#d.sinkSpecs.of(sink);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        sinks.push({
          name,
          problem: {
            reason: 'InvalidSink',
            message: `AuditSink ${name}: spec.${issue?.path.join('.')}: ${issue?.message}`,
          },
        });
        continue;
      }
      const missing = sinkSecretRefs(parsed.data).filter((r) => !secrets.has(r));
      if (missing.length > 0) {
        sinks.push({
          name,
          problem: {
            reason: 'SecretNotFound',
            message: `AuditSink ${name}: Secret key(s) not found: ${missing.map(refKey).join(', ')}`,
          },
        });
        continue;
      }
      sinks.push({ name });
      runnable.push({
        entry: { name, spec: parsed.data, route: entry.route },
        version: `${name}@${sink.metadata.uid}:${sink.metadata.generation}`,
      });
    }
    runnable.sort((a, b) => a.entry.name.localeCompare(b.entry.name));
    return { sinks, runnable };
  }

  /**
   * Applies what is not up to date. The objects are built only when something must be applied or the
   * inputs changed; otherwise the hashes remembered from the last build are checked against the cache.
   * Objects the policy no longer runs are deleted whenever the inputs changed.
   */
  async #applyPlan(
    policy: AuditPolicyObject,
    inputs: string,
    build: () => KubeObject[],
    applied: Set<string>,
  ): Promise<void> {
    const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
    const plan = this.#plans.get(key);
    if (plan?.inputs === inputs && plan.items.every((item) => this.#upToDate(policy, item))) return;
    this.#plans.delete(key);
    const desired = build();
    await this.#apply(policy, desired, applied);
    await this.#prune(policy, new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`)));
    this.#plans.set(key, {
      inputs,
      items: desired.map((o) => ({
        kind: o.kind,
        name: o.metadata.name,
        hash: o.metadata.annotations?.[ANNOTATION_APPLIED] ?? '',
      })),
    });
  }

  /** The object is as last applied (or was just written and its watch event has not come yet). */
  #upToDate(policy: AuditPolicyObject, item: PlanItem): boolean {
    const namespace = policy.metadata.namespace ?? '';
    const k = memoKey(item.kind, namespace, item.name);
    if (this.#d.memo.matches(k, item.hash)) return true;
    const live = this.#d.caches.owned[item.kind as OwnedKind].get(namespace, item.name);
    const record = this.#d.applied.get(k);
    if (!isUpToDate(item.hash, live, record)) return false;
    // first sight of an object applied before (an earlier run): from now on changes to it count
    if (live && record?.hash !== item.hash) this.#d.applied.set(k, appliedRecord(item.hash, live));
    return true;
  }

  async #apply(policy: AuditPolicyObject, desired: KubeObject[], applied: Set<string>): Promise<void> {
    const { rest, memo, applied: records } = this.#d;
    const namespace = policy.metadata.namespace ?? '';
    const failures: string[] = [];
    await Promise.all(
      desired.map(async (obj) => {
        const k = memoKey(obj.kind, namespace, obj.metadata.name);
        const hash = obj.metadata.annotations?.[ANNOTATION_APPLIED] ?? '';
        if (this.#upToDate(policy, { kind: obj.kind, name: obj.metadata.name, hash })) return;
        try {
          const result = await rest.apply(obj);
          memo.remember(k, hash);
          records.set(k, appliedRecord(hash, result));
          applied.add(`${obj.kind}/${obj.metadata.name}`);
        } catch (err) {
          failures.push(`${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
        }
      }),
    );
    if (applied.size > 0) {
      this.#d.log.info({ policy: policy.metadata.name, namespace, applied: [...applied] }, 'applied');
      void this.#d.events.record(policy, 'Normal', 'Applied', `applied ${[...applied].sort().join(', ')}`);
    }
    if (failures.length > 0) throw new ApplyError('ApplyFailed', failures.join('; '));
  }

  /** Deletes owned objects (this policy's uid as controller) that are not in `keep` (`Kind/name`). */
  async #prune(policy: AuditPolicyObject, keep: Set<string>): Promise<void> {
    const namespace = policy.metadata.namespace ?? '';
    const uid = policy.metadata.uid;
    for (const kind of PRUNED_KINDS) {
      for (const live of this.#d.caches.owned[kind].list(namespace)) {
        if (live.metadata.labels?.[LABEL_POLICY] !== policy.metadata.name) continue;
        if (!live.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller)) continue;
        if (keep.has(`${kind}/${live.metadata.name}`) || live.metadata.deletionTimestamp) continue;
        await this.#d.rest.delete(resourceOf(live), namespace, live.metadata.name, live.metadata.uid);
        this.#d.memo.forgetObject(memoKey(kind, namespace, live.metadata.name));
        this.#d.applied.delete(memoKey(kind, namespace, live.metadata.name));
        this.#d.log.info(
          { policy: policy.metadata.name, namespace, kind, name: live.metadata.name },
          'deleted',
        );
      }
    }
  }

  #observe(
    policy: AuditPolicyObject,
    spec: AuditPolicySpec,
    sinks: SinkObservation[],
    applied: Set<string>,
  ): PolicyObservations {
    const { caches, prober } = this.#d;
    const namespace = policy.metadata.namespace ?? '';
    const name = policy.metadata.name;
    const { deployed, scheduled } = runningComponents(spec);
    const workloads = deployed.map((component) => {
      const objName = objectName(name, component);
      const live = caches.owned.Deployment.get<KubeObject & { status?: { availableReplicas?: number } }>(
        namespace,
        objName,
      );
      return {
        component,
        name: objName,
        desired: replicasOf(spec, component),
        available: live?.status?.availableReplicas ?? 0,
      };
    });
    const schedules = scheduled.map((component) => {
      const objName = objectName(name, component);
      const live = caches.owned.CronJob.get(namespace, objName);
      return {
        component,
        schedule: scheduleOf(spec, component),
        applied: live !== undefined || applied.has(`CronJob/${objName}`),
      };
    });
    return {
      generation: policy.metadata.generation ?? 0,
      workloads,
      schedules,
      exportConfigured: spec.export !== undefined,
      jobs: latestJobs(caches.owned.Job.list(namespace), name),
      sinks,
      probe: prober?.result(`${namespace}/${name}`),
      probed: prober !== undefined,
    };
  }

  async #writeStatus(
    policy: AuditPolicyObject,
    observations: PolicyObservations,
  ): Promise<AuditPolicyStatus> {
    const { rest, memo } = this.#d;
    const previous = policy.status?.conditions as Condition[] | undefined;
    const status = policyStatus(observations, previous, kubeTime(this.#d.now?.() ?? Date.now()));
    const namespace = policy.metadata.namespace ?? '';
    const k = `${memoKey(AUDIT_POLICY.kind, namespace, policy.metadata.name)}/status`;
    const hash = contentHash(status);
    if (stableJson(status) === stableJson(policy.status ?? {}) || memo.matches(k, hash)) return status;
    await rest.applyStatus({
      apiVersion: API_VERSION,
      kind: AUDIT_POLICY.kind,
      metadata: { name: policy.metadata.name, namespace },
      status,
    });
    memo.remember(k, hash);
    for (const e of eventsFor(transitions(previous, status.conditions ?? []), 'AuditPolicy')) {
      void this.#d.events.record(policy, e.type, e.reason, e.message);
    }
    return status;
  }

  #setGauges(namespace: string, name: string, status: AuditPolicyStatus): void {
    const m = this.#d.metrics;
    const labels = { namespace, policy: name };
    const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    m.policyReady.set(labels, ready ? 1 : 0);
    if (status.ingestion) {
      m.policyLag.set(labels, status.ingestion.lag);
      m.policyDeadLettered.set(labels, status.ingestion.deadLettered);
    }
    m.policyIntegrityFailed.set(
      labels,
      status.lastVerification && !status.lastVerification.succeeded ? 1 : 0,
    );
  }

  #clearGauges(namespace: string, name: string): void {
    const m = this.#d.metrics;
    const labels = { namespace, policy: name };
    for (const g of [m.policyReady, m.policyLag, m.policyDeadLettered, m.policyIntegrityFailed])
      g.remove(labels);
  }
}

function withAppliedHash(obj: KubeObject): KubeObject {
  const hash = contentHash(obj);
  return {
    ...obj,
    metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, [ANNOTATION_APPLIED]: hash } },
  };
}

interface JobObject extends KubeObject {
  status?: {
    startTime?: string;
    completionTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

/** The latest finished Job of each scheduled component of a policy. */
export function latestJobs(
  jobs: KubeObject[],
  policy: string,
): Partial<Record<ScheduledComponent, JobResult>> {
  const out: Partial<Record<ScheduledComponent, JobResult & { at: string }>> = {};
  for (const job of jobs as JobObject[]) {
    if (job.metadata.labels?.[LABEL_POLICY] !== policy) continue;
    const component = job.metadata.labels?.[LABEL_COMPONENT] as ScheduledComponent | undefined;
    if (component !== 'retention' && component !== 'export' && component !== 'verify') continue;
    const done = job.status?.conditions?.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    if (!done) continue;
    const at = job.status?.completionTime ?? done.lastTransitionTime ?? '';
    const prev = out[component];
    if (prev && prev.at >= at) continue;
    out[component] = {
      job: job.metadata.name,
      ...(job.status?.startTime ? { startTime: job.status.startTime } : {}),
      ...(at ? { completionTime: at } : {}),
      succeeded: done.type === 'Complete',
      at,
    };
  }
  return Object.fromEntries(Object.entries(out).map(([c, { at: _at, ...result }]) => [c, result])) as Partial<
    Record<ScheduledComponent, JobResult>
  >;
}
