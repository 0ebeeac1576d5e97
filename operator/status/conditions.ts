// Conditions as the operator computes them: the new set keeps each condition's lastTransitionTime while
// its status is unchanged (so an unchanged object is never rewritten), and the transitions between two
// sets are what Kubernetes Events report.
import type { Condition, ConditionStatus } from '../api/condition.ts';

export interface ConditionState {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Kubernetes caps condition messages; long ones (lists of missing things) are shortened. */
export const MESSAGE_MAX = 1024;

export function condition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
): ConditionState {
  return {
    type,
    status,
    reason,
    message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 1)}…` : message,
  };
}

/** The conditions to write: `next` in its order, with transition times carried over from `previous`. */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionState[],
  generation: number,
  now: string,
): Condition[] {
  return next.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now,
      observedGeneration: generation,
    };
  });
}

export interface Transition {
  type: string;
  from: ConditionStatus | undefined;
  to: ConditionState;
}

/** Conditions whose status or reason changed. */
export function transitions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionState[],
): Transition[] {
  const out: Transition[] = [];
  for (const c of next) {
    const before = previous?.find((p) => p.type === c.type);
    if (!before || before.status !== c.status || before.reason !== c.reason) {
      out.push({ type: c.type, from: before?.status, to: c });
    }
  }
  return out;
}

/** Kubernetes time format (seconds precision, as metav1.Time serializes). */
export function kubeTime(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Reasons that are normal progress right after a change (a Deployment rolling out, a first probe). */
const PROGRESS_REASONS = new Set([
  'WorkerUnavailable',
  'ForwarderUnavailable',
  'WorkloadsUnavailable',
  'NotProbedYet',
  'ScaledToZero',
]);

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * The Events transitions deserve: Ready reached (for a sink only when it recovers), Ready lost for a
 * problem (or for anything after having been Ready), a failed verification. Progress on the way to
 * Ready is not an Event.
 */
export function eventsFor(changes: readonly Transition[], kind: 'AuditPolicy' | 'AuditSink'): EventSpec[] {
  const out: EventSpec[] = [];
  for (const t of changes) {
    const { status, reason, message } = t.to;
    if (t.type === 'Ready' && status === 'True' && (kind === 'AuditPolicy' || t.from === 'False')) {
      out.push({ type: 'Normal', reason: 'Ready', message });
    } else if (
      t.type === 'Ready' &&
      status === 'False' &&
      (t.from === 'True' || !PROGRESS_REASONS.has(reason))
    ) {
      out.push({ type: 'Warning', reason, message });
    } else if (t.type === 'IntegrityVerified' && status === 'False') {
      out.push({ type: 'Warning', reason, message });
    }
  }
  return out;
}
