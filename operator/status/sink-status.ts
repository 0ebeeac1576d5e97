// AuditSink status: Ready (the spec is usable and the sink is not failing) and Delivering, plus delivery
// counts, lag and the last error, summed or taken over every policy that forwards to the sink, from
// the health records its forwarders keep in each ledger's Postgres.
import type { SinkHealth } from '../../ledger/sinks/health-store.ts';
import type { AuditSinkStatus } from '../api/audit-sink.ts';
import type { Condition } from '../api/condition.ts';
import { type ConditionState, condition, mergeConditions } from './conditions.ts';

export interface SinkObservations {
  generation: number;
  problem?: { reason: 'InvalidSpec' | 'SecretNotFound'; message: string };
  /** Policies (same namespace) listing the sink. */
  policies: string[];
  /** The sink's health record in each policy's ledger (absent: the forwarder has not run it yet). */
  health: SinkHealth[];
}

function latest<T>(values: T[], at: (v: T) => string | null | undefined): T | undefined {
  let best: T | undefined;
  for (const v of values) {
    const t = at(v);
    if (t && (!best || t > (at(best) ?? ''))) best = v;
  }
  return best;
}

function delivering(o: SinkObservations): ConditionState {
  if (o.policies.length === 0)
    return condition('Delivering', 'Unknown', 'NotReferenced', 'no AuditPolicy lists this sink');
  if (o.health.length === 0) {
    return condition(
      'Delivering',
      'Unknown',
      'AwaitingForwarder',
      'no forwarder has reported on this sink yet',
    );
  }
  const disabled = o.health.find((h) => h.breaker === 'disabled');
  if (disabled) {
    return condition(
      'Delivering',
      'False',
      'SinkDisabled',
      `the endpoint answered 410 Gone: ${disabled.disabled?.reason ?? ''}; re-enable with \`ledgerhub sinks enable\``,
    );
  }
  const failing = o.health.filter((h) => h.breaker === 'open' || h.breaker === 'half_open');
  if (failing.length > 0) {
    const err = latest(failing, (h) => h.lastError?.at)?.lastError;
    return condition(
      'Delivering',
      'False',
      'DeliveryFailing',
      err ? `${err.code}: ${err.message}` : 'the circuit breaker is open',
    );
  }
  const delivered = o.health.reduce((n, h) => n + h.deliveredEvents, 0);
  return condition('Delivering', 'True', 'Delivering', `${delivered} event(s) delivered`);
}

export function sinkStatus(
  o: SinkObservations,
  previous: readonly Condition[] | undefined,
  now: string,
): AuditSinkStatus {
  let states: ConditionState[];
  if (o.problem) {
    states = [
      condition('Ready', 'False', o.problem.reason, o.problem.message),
      condition('Delivering', 'Unknown', o.problem.reason, 'the sink cannot be used'),
    ];
  } else {
    const d = delivering(o);
    const ready =
      d.status === 'False'
        ? condition('Ready', 'False', d.reason, d.message)
        : condition('Ready', 'True', 'Valid', 'the spec is valid and its Secrets exist');
    states = [ready, d];
  }
  const status: AuditSinkStatus = {
    observedGeneration: o.generation,
    conditions: mergeConditions(previous, states, o.generation, now),
    policies: [...o.policies].sort(),
  };
  if (o.health.length > 0) {
    status.delivered = o.health.reduce((n, h) => n + h.deliveredEvents, 0);
    status.deadLettered = o.health.reduce((n, h) => n + h.deadLetters, 0);
    status.lag = Math.max(...o.health.map((h) => h.lagEvents));
    const success = latest(o.health, (h) => h.lastSuccessAt)?.lastSuccessAt;
    if (success) status.lastDelivery = success;
    const err = latest(o.health, (h) => h.lastError?.at)?.lastError;
    if (err) status.lastError = { code: err.code, message: err.message.slice(0, 1024), at: err.at };
  }
  return status;
}
