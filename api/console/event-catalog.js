// The event catalogue as the console presents it, mirroring ledger/event.ts (decisions, categories)
// and Caracal's console (labels, decision tones) and ledger/explain.ts (stages).

/** Decisions producers emit (KNOWN_DECISIONS); the list filter accepts exactly these. */
export const DECISIONS = ['allow', 'deny', 'partial', 'pending', 'approved', 'rejected', 'consumed'];

/** Caracal's console categories plus ledgerhub's admin events (EVENT_CATEGORIES). */
export const CATEGORIES = [
  { id: 'authority', label: 'Authority', types: ['token_exchange', 'run_launch'] },
  { id: 'resource', label: 'Resource', types: ['gateway_resource_request'] },
  { id: 'approvals', label: 'Approvals', types: ['step_up_issued', 'step_up_decided', 'step_up_consumed'] },
  { id: 'security', label: 'Security', types: ['replay_detected', 'jti_collision'] },
  { id: 'control', label: 'Control', types: ['control.invoke'] },
  {
    id: 'admin',
    label: 'Admin',
    types: ['credential_revealed', 'ledgerhub.retention.run', 'ledgerhub.export.run', 'ledgerhub.checkpoint'],
  },
];

/** The API accepts at most this many event types in one filter. */
export const MAX_EVENT_TYPES = 16;

const TYPE_NAMES = {
  token_exchange: 'Token exchange',
  run_launch: 'Workload launch',
  gateway_resource_request: 'Resource call',
  step_up_issued: 'Approval requested',
  step_up_decided: 'Approval decided',
  step_up_consumed: 'Approval consumed',
  replay_detected: 'Replay blocked',
  jti_collision: 'Token ID collision',
  'control.invoke': 'Control command',
  credential_revealed: 'Credential revealed',
  'ledgerhub.retention.run': 'Retention run',
  'ledgerhub.export.run': 'Export run',
  'ledgerhub.checkpoint': 'Chain checkpoint',
};

/** The catalogue name of an event type, for pickers. */
export function typeName(eventType) {
  return Object.hasOwn(TYPE_NAMES, eventType) ? TYPE_NAMES[eventType] : eventType;
}

/** Caracal's label for one event (AUDIT_EVENT_LABELS), which depends on the decision for some types. */
export function eventLabel(eventType, decision) {
  if (eventType === 'token_exchange') return decision === 'deny' ? 'Token denied' : 'Token issued';
  if (eventType === 'run_launch') return decision === 'deny' ? 'Workload launch denied' : 'Workload launch';
  if (eventType === 'step_up_decided') {
    if (decision === 'approved') return 'Approval granted';
    if (decision === 'rejected') return 'Approval rejected';
    return 'Approval decided';
  }
  if (eventType === 'control.invoke' && decision === 'deny') return 'Control command denied';
  return typeName(eventType);
}

/** @param {string} eventType */
export function categoryOf(eventType) {
  return CATEGORIES.find((c) => c.types.includes(eventType))?.label ?? 'Other';
}

/**
 * Caracal's decision tone: allow/approved/consumed succeed, deny/rejected are dangers, partial/pending warn.
 * @param {string | null | undefined} decision
 * @returns {'success' | 'danger' | 'warning' | 'neutral'}
 */
export function decisionTone(decision) {
  if (decision === 'allow' || decision === 'approved' || decision === 'consumed') return 'success';
  if (decision === 'deny' || decision === 'rejected') return 'danger';
  if (decision === 'partial' || decision === 'pending') return 'warning';
  return 'neutral';
}

const STAGE_LABELS = {
  authorization: 'Authorization',
  launch: 'Workload launch',
  approval_requested: 'Approval requested',
  approval_decided: 'Approval decided',
  approval_consumed: 'Approval consumed',
  gateway_result: 'Gateway result',
  security: 'Security',
  control: 'Control',
  other: 'Other',
};

/** The label of a trace stage (ledger/explain.ts Stage). */
export function stageLabel(stage) {
  return Object.hasOwn(STAGE_LABELS, stage) ? STAGE_LABELS[stage] : stage;
}

/** Request ids the API accepts in paths (REQUEST_ID_PATTERN): only these can be traced. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.\-:]{1,128}$/;
