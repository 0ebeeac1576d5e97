// Reconciles one AuditSink: checks its spec and Secrets, finds the policies that forward to it, gathers
// its health from their ledgers (one record per distinct ledger), and writes status when it changed.
import type { SinkHealth } from '../../ledger/sinks/health-store.ts';
import type { AuditSinkStatus } from '../api/audit-sink.ts';
import type { Condition } from '../api/condition.ts';
import { API_VERSION, AUDIT_SINK } from '../api/group.ts';
import { contentHash, stableJson } from '../desired/checksum.ts';
import { refKey, sinkSecretRefs } from '../desired/secret-inputs.ts';
import type { KubeObject } from '../kube/resources.ts';
import { eventsFor, kubeTime, transitions } from '../status/conditions.ts';
import { type SinkObservations, sinkStatus } from '../status/sink-status.ts';
import { SecretLookup } from './caches.ts';
import { ledgerIdentity } from './ledger-claims.ts';
import type { ReconcilerDeps } from './policy-reconciler.ts';
import { memoKey } from './write-memo.ts';

interface AuditSinkObject extends KubeObject {
  spec?: unknown;
  status?: AuditSinkStatus;
}

/** Names of the sinks a policy object lists (read without parsing: the spec may be invalid). */
export function listedSinks(policy: KubeObject): string[] {
  const sinks = (policy['spec'] as { sinks?: { sinkRef?: { name?: string } }[] } | undefined)?.sinks ?? [];
  return sinks.map((s) => s.sinkRef?.name).filter((n): n is string => typeof n === 'string');
}

export class SinkReconciler {
  readonly #d: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const { caches, prober } = this.#d;
    const sink = caches.sinks.get<AuditSinkObject>(namespace, name);
    const labels = { namespace, sink: name };
    if (!sink || sink.metadata.deletionTimestamp) {
      for (const g of [
        this.#d.metrics.sinkFailing,
        this.#d.metrics.sinkLag,
        this.#d.metrics.sinkDeadLettered,
      ]) {
        g.remove(labels);
      }
      return;
    }
    const policies = caches.policies
      .list(namespace)
      .filter((p) => !p.metadata.deletionTimestamp && listedSinks(p).includes(name));
    const observations: SinkObservations = {
      generation: sink.metadata.generation ?? 0,
      policies: policies.map((p) => p.metadata.name),
      health: [],
    };
    const parsed = this.#d.sinkSpecs.of(sink);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      observations.problem = {
        reason: 'InvalidSpec',
        message: `spec.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      };
    } else {
      const secrets = new SecretLookup(caches.secrets, namespace);
      const missing = sinkSecretRefs(parsed.data).filter((r) => !secrets.has(r));
      if (missing.length > 0) {
        observations.problem = {
          reason: 'SecretNotFound',
          message: `Secret key(s) not found: ${missing.map(refKey).join(', ')}`,
        };
      }
    }
    const seen = new Set<string>();
    for (const policy of policies) {
      const key = `${namespace}/${policy.metadata.name}`;
      const target = prober?.target(key);
      const ledger = target ? ledgerIdentity(target.databaseUrl) : undefined;
      const result = prober?.result(key);
      if (!ledger || seen.has(ledger) || !result?.postgres.ok) continue;
      seen.add(ledger);
      const health: SinkHealth | undefined = result.postgres.sinks?.find((h) => h.name === name);
      if (health) observations.health.push(health);
    }
    const status = sinkStatus(
      observations,
      sink.status?.conditions as Condition[] | undefined,
      kubeTime(this.#d.now?.() ?? Date.now()),
    );
    await this.#write(sink, status);
    const m = this.#d.metrics;
    const delivering = status.conditions?.find((c) => c.type === 'Delivering');
    m.sinkFailing.set(labels, delivering?.status === 'False' ? 1 : 0);
    m.sinkLag.set(labels, status.lag ?? 0);
    m.sinkDeadLettered.set(labels, status.deadLettered ?? 0);
  }

  async #write(sink: AuditSinkObject, status: AuditSinkStatus): Promise<void> {
    const namespace = sink.metadata.namespace ?? '';
    const k = `${memoKey(AUDIT_SINK.kind, namespace, sink.metadata.name)}/status`;
    const hash = contentHash(status);
    if (stableJson(status) === stableJson(sink.status ?? {}) || this.#d.memo.matches(k, hash)) return;
    await this.#d.rest.applyStatus({
      apiVersion: API_VERSION,
      kind: AUDIT_SINK.kind,
      metadata: { name: sink.metadata.name, namespace },
      status,
    });
    this.#d.memo.remember(k, hash);
    for (const e of eventsFor(transitions(sink.status?.conditions, status.conditions ?? []), 'AuditSink')) {
      void this.#d.events.record(sink, e.type, e.reason, e.message);
    }
  }
}
