// The `ecs` format: Elastic Common Schema fields an analyst queries (@timestamp, event.*, trace.id,
// labels, tags), with the original event kept whole under `caracal` (the caracal format).
import { categoryOf, type EventCategory } from '../../ledger/event.ts';
import type { LedgerEvent } from '../ledger-event.ts';
import { caracalEvent } from './caracal.ts';

export const ECS_VERSION = '8.11.0';

type Outcome = 'success' | 'failure' | 'unknown';

/** ECS allows success, failure and unknown; pending and partial decisions say neither. */
export function ecsOutcome(decision: string | null): Outcome {
  switch (decision) {
    case 'allow':
    case 'approved':
    case 'consumed':
      return 'success';
    case 'deny':
    case 'rejected':
      return 'failure';
    default:
      return 'unknown';
  }
}

/** event.category and event.type per event category, from ECS's allowed values. */
const ECS_CATEGORIES: Record<EventCategory | 'other', { category: string[]; type: string[] }> = {
  authority: { category: ['authentication', 'iam'], type: ['info'] },
  resource: { category: ['web', 'api'], type: ['access'] },
  approvals: { category: ['iam'], type: ['info'] },
  security: { category: ['intrusion_detection'], type: ['info'] },
  control: { category: ['configuration'], type: ['change'] },
  admin: { category: ['configuration'], type: ['info'] },
  other: { category: ['api'], type: ['info'] },
};

export function ecsEvent(e: LedgerEvent): Record<string, unknown> {
  const meta = isRecord(e.metadata_json) ? e.metadata_json : {};
  const outcome = ecsOutcome(e.decision);
  const { category, type } = ECS_CATEGORIES[categoryOf(e.event_type)];
  const labels: Record<string, string> = { zone_id: e.zone_id };
  for (const [key, value] of [
    ['decision', e.decision],
    ['evaluation_status', e.evaluation_status],
    ['request_id', e.request_id],
    ['policy_set_id', e.policy_set_id],
    ['policy_set_version_id', e.policy_set_version_id],
  ] as const) {
    if (value) labels[key] = value;
  }
  const doc: Record<string, unknown> = {
    '@timestamp': e.occurred_at,
    ecs: { version: ECS_VERSION },
    event: {
      id: e.id,
      kind: 'event',
      action: e.event_type,
      outcome,
      category,
      type: outcome === 'unknown' ? type : [...type, outcome === 'success' ? 'allowed' : 'denied'],
      created: e.ingested_at,
      dataset: 'ledgerhub.audit',
      module: 'ledgerhub',
      sequence: e.ledger_seq,
      hash: e.content_sha256,
      ...(e.evaluation_status ? { reason: e.evaluation_status } : {}),
    },
    labels,
  };
  if (typeof meta.trace_id === 'string' && meta.trace_id !== '') doc.trace = { id: meta.trace_id };
  const tags = meta.agent_labels;
  if (Array.isArray(tags) && tags.length > 0 && tags.every((t) => typeof t === 'string')) doc.tags = tags;
  doc.caracal = caracalEvent(e);
  return doc;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
