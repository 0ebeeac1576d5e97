// AuditPolicy status from what the reconciler observed: the conditions (Ready, Ingesting, Forwarding,
// RetentionScheduled, ExportScheduled, IntegrityVerified) with their reasons, and the summary fields.
// Pure; docs/kubernetes.md lists every reason.
import type { SinkHealth } from '../../ledger/sinks/health-store.ts';
import type { AuditPolicyStatus, JobResult } from '../api/audit-policy.ts';
import type { Condition } from '../api/condition.ts';
import type { DeployedComponent, ScheduledComponent } from '../desired/names.ts';
import type { LedgerProbeResult } from '../probes/ledger-probe.ts';
import { type ConditionState, condition, mergeConditions } from './conditions.ts';

export const POLICY_CONDITIONS = [
  'Ready',
  'Ingesting',
  'Forwarding',
  'RetentionScheduled',
  'ExportScheduled',
  'IntegrityVerified',
] as const;

export interface WorkloadObservation {
  component: DeployedComponent;
  name: string;
  desired: number;
  /** status.availableReplicas (0 when the Deployment is missing or has no status yet). */
  available: number;
}

export interface SinkObservation {
  name: string;
  problem?: { reason: 'SinkNotFound' | 'InvalidSink' | 'SecretNotFound'; message: string };
}

export interface PolicyObservations {
  generation: number;
  /** Blocks everything else: nothing is applied. */
  blocker?: { reason: 'InvalidSpec' | 'Conflict' | 'SecretNotFound'; message: string };
  /** Applying or pruning failed (the reconcile is retried). */
  applyError?: { reason: string; message: string };
  workloads: WorkloadObservation[];
  schedules: { component: ScheduledComponent; schedule: string; applied: boolean }[];
  exportConfigured: boolean;
  jobs: Partial<Record<ScheduledComponent, JobResult>>;
  sinks: SinkObservation[];
  /** Undefined until the first probe (or when probing is off: probed false). */
  probe: LedgerProbeResult | undefined;
  probed: boolean;
}

function available(w: WorkloadObservation): boolean {
  return w.available >= Math.min(1, w.desired);
}

const SINK_FAILING = new Set(['open', 'half_open', 'disabled']);

function failingSinks(health: SinkHealth[] | null | undefined, listed: string[]): SinkHealth[] {
  return (health ?? []).filter((h) => listed.includes(h.name) && SINK_FAILING.has(h.breaker));
}

function ingesting(o: PolicyObservations): ConditionState {
  const worker = o.workloads.find((w) => w.component === 'worker');
  const probe = o.probe;
  if (probe && !probe.redis.ok) return condition('Ingesting', 'False', 'RedisUnreachable', probe.redis.error);
  if (probe && !probe.postgres.ok) {
    return condition('Ingesting', 'False', 'PostgresUnreachable', probe.postgres.error);
  }
  if (worker && worker.desired === 0)
    return condition('Ingesting', 'False', 'ScaledToZero', 'ingestion.replicas is 0');
  if (!worker || !available(worker)) {
    return condition(
      'Ingesting',
      'False',
      'WorkerUnavailable',
      `${worker?.name ?? 'the worker'} has no available replica`,
    );
  }
  if (o.probed && !probe)
    return condition('Ingesting', 'Unknown', 'NotProbedYet', 'Redis and Postgres not probed yet');
  if (probe?.redis.ok) {
    return condition(
      'Ingesting',
      'True',
      'Ingesting',
      `${probe.redis.lag} entries waiting, ${probe.redis.deadLettered} dead-lettered`,
    );
  }
  return condition('Ingesting', 'True', 'Ingesting', 'the worker is available (ledger probing is off)');
}

function forwarding(o: PolicyObservations): ConditionState {
  if (o.sinks.length === 0) return condition('Forwarding', 'True', 'NoSinks', 'no sinks are listed');
  const problems = o.sinks.filter((s) => s.problem);
  const first = problems[0]?.problem;
  if (first) {
    return condition('Forwarding', 'False', first.reason, problems.map((s) => s.problem!.message).join('; '));
  }
  const forwarder = o.workloads.find((w) => w.component === 'forwarder');
  if (forwarder && forwarder.desired === 0) {
    return condition('Forwarding', 'False', 'ScaledToZero', 'forwarder.replicas is 0');
  }
  if (!forwarder || !available(forwarder)) {
    return condition(
      'Forwarding',
      'False',
      'ForwarderUnavailable',
      `${forwarder?.name ?? 'the forwarder'} has no available replica`,
    );
  }
  const probe = o.probe;
  if (probe && !probe.postgres.ok) {
    return condition('Forwarding', 'Unknown', 'PostgresUnreachable', 'sink health cannot be read');
  }
  const listed = o.sinks.map((s) => s.name);
  const failing = failingSinks(probe?.postgres.ok ? probe.postgres.sinks : null, listed);
  if (failing.length > 0) {
    const disabled = failing.some((h) => h.breaker === 'disabled');
    return condition(
      'Forwarding',
      'False',
      disabled ? 'SinkDisabled' : 'SinkFailing',
      failing
        .map(
          (h) =>
            `${h.name}: ${h.breaker}${h.lastError ? ` (${h.lastError.code}: ${h.lastError.message})` : ''}`,
        )
        .join('; '),
    );
  }
  return condition('Forwarding', 'True', 'Forwarding', `${listed.length} sink(s), none failing`);
}

function scheduled(o: PolicyObservations, component: ScheduledComponent, type: string): ConditionState {
  if (component === 'export' && !o.exportConfigured) {
    return condition(type, 'False', 'NotConfigured', 'spec.export is not set');
  }
  const s = o.schedules.find((x) => x.component === component);
  if (!s?.applied)
    return condition(type, 'False', 'NotScheduled', `the ${component} CronJob is not in place`);
  const last = o.jobs[component];
  const tail = last ? `; last run ${last.job} ${last.succeeded ? 'succeeded' : 'failed'}` : '';
  return condition(type, 'True', 'Scheduled', `${s.schedule} (UTC)${tail}`);
}

function integrity(o: PolicyObservations): ConditionState {
  const last = o.jobs.verify;
  if (!last)
    return condition('IntegrityVerified', 'Unknown', 'NotYetRun', 'no verification has finished yet');
  if (last.succeeded)
    return condition('IntegrityVerified', 'True', 'Verified', `${last.job} verified every chain`);
  return condition(
    'IntegrityVerified',
    'False',
    'VerificationFailed',
    `${last.job} failed: \`kubectl logs job/${last.job}\` names each fault`,
  );
}

function ready(o: PolicyObservations, parts: ConditionState[]): ConditionState {
  if (o.blocker) return condition('Ready', 'False', o.blocker.reason, o.blocker.message);
  if (o.applyError) return condition('Ready', 'False', o.applyError.reason, o.applyError.message);
  const missing = o.workloads.filter((w) => !available(w) && w.desired > 0);
  for (const part of parts)
    if (part.status === 'False') return condition('Ready', 'False', part.reason, part.message);
  if (missing.length > 0) {
    return condition(
      'Ready',
      'False',
      'WorkloadsUnavailable',
      missing.map((w) => `${w.name} ${w.available}/${w.desired} available`).join(', '),
    );
  }
  for (const part of parts) {
    if (part.status === 'Unknown') return condition('Ready', 'Unknown', part.reason, part.message);
  }
  return condition('Ready', 'True', 'Ready', 'all workloads available; ingesting and forwarding');
}

/** The status to write; transition times come from the previous conditions. */
export function policyStatus(
  o: PolicyObservations,
  previous: readonly Condition[] | undefined,
  now: string,
): AuditPolicyStatus {
  let states: ConditionState[];
  if (o.blocker) {
    const blocked = (type: string) => condition(type, 'Unknown', o.blocker!.reason, 'not reconciled');
    states = [
      condition('Ready', 'False', o.blocker.reason, o.blocker.message),
      ...POLICY_CONDITIONS.slice(1).map(blocked),
    ];
  } else {
    const parts = [ingesting(o), forwarding(o)];
    states = [
      ready(o, parts),
      ...parts,
      scheduled(o, 'retention', 'RetentionScheduled'),
      scheduled(o, 'export', 'ExportScheduled'),
      integrity(o),
    ];
  }
  const status: AuditPolicyStatus = {
    observedGeneration: o.generation,
    conditions: mergeConditions(previous, states, o.generation, now),
  };
  if (!o.blocker) {
    status.workloads = `${o.workloads.filter(available).length}/${o.workloads.length}`;
    const health = o.probe?.postgres.ok ? o.probe.postgres.sinks : null;
    const failing = new Set(
      failingSinks(
        health,
        o.sinks.map((s) => s.name),
      ).map((h) => h.name),
    );
    status.sinks = `${o.sinks.filter((s) => !s.problem && !failing.has(s.name)).length}/${o.sinks.length}`;
  }
  if (o.probe?.redis.ok)
    status.ingestion = { lag: o.probe.redis.lag, deadLettered: o.probe.redis.deadLettered };
  if (o.jobs.retention) status.lastRetention = o.jobs.retention;
  if (o.jobs.export) status.lastExport = o.jobs.export;
  if (o.jobs.verify) status.lastVerification = o.jobs.verify;
  return status;
}
