// Explains one request from its events, in Caracal's decision-trace shape (final_decision, denied[]
// with determining policies, diagnostics, metadata and the reconstructed policy_input, events[]),
// plus ledgerhub's timeline of stages and the gaps: stages that should exist and do not. Pure.
import type { AuditDetail } from './queries.ts';

export type Stage =
  | 'authorization'
  | 'launch'
  | 'approval_requested'
  | 'approval_decided'
  | 'approval_consumed'
  | 'gateway_result'
  | 'security'
  | 'control'
  | 'other';

const STAGE_OF: Record<string, Stage> = {
  token_exchange: 'authorization',
  run_launch: 'launch',
  step_up_issued: 'approval_requested',
  step_up_decided: 'approval_decided',
  step_up_consumed: 'approval_consumed',
  gateway_resource_request: 'gateway_result',
  replay_detected: 'security',
  jti_collision: 'security',
  'control.invoke': 'control',
};

export function stageOf(eventType: string): Stage {
  return STAGE_OF[eventType] ?? 'other';
}

export interface TimelineEntry {
  stage: Stage;
  event_id: string;
  event_type: string;
  request_id: string | null;
  decision: string | null;
  evaluation_status: string | null;
  occurred_at: string;
  summary: string;
}

export interface Gap {
  /** The stage that should exist and does not. */
  stage: Stage;
  kind: 'missing' | 'undecided' | 'unconsumed' | 'orphaned';
  /** The event that makes the missing stage expected. */
  after_event_id: string;
  message: string;
}

export interface DeniedDecision {
  event_id: string;
  event_type: string;
  evaluation_status: string | null;
  determining_policies: string[];
  diagnostics: unknown;
  metadata: Record<string, unknown> | null;
  policy_input: PolicyInput;
}

export interface PolicyInput {
  schema_version: '2026-05-20';
  principal: Record<string, unknown>;
  resource: { type: 'Resource'; identifier: unknown; scopes: unknown };
  action: { id: 'TokenExchange' };
  context: Record<string, unknown>;
  session?: { id: unknown };
  delegation_edge?: { id: unknown };
}

export interface DecisionTrace {
  request_id: string;
  zone_id: string;
  final_decision: string;
  denied: DeniedDecision[];
  events: AuditDetail[];
  timeline: TimelineEntry[];
  gaps: Gap[];
}

/** Names of determining policies: `.policy`, else `.id` / `.policy_id` / `.name`, else the JSON. */
export function determiningPolicyNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((p) => {
    if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      const name = o.policy ?? o.id ?? o.policy_id ?? o.name;
      if (typeof name === 'string') return name;
    }
    return JSON.stringify(p);
  });
}

const has = (o: Record<string, unknown>, k: string) => o[k] !== undefined && o[k] !== null;

/** Caracal's reconstructPolicyInput: the OPA input that lets a denial be replayed in policy simulation. */
export function reconstructPolicyInput(e: AuditDetail): PolicyInput {
  const m = e.metadata_json ?? {};
  const principal: Record<string, unknown> = {
    type: 'Application',
    id: m.application_id ?? null,
    zone_id: e.zone_id,
  };
  if (has(m, 'application_registration_method'))
    principal.registration_method = m.application_registration_method;
  if (has(m, 'agent_session_id')) principal.agent_session_id = m.agent_session_id;
  if (has(m, 'agent_lifecycle')) principal.lifecycle = m.agent_lifecycle;
  if (has(m, 'agent_labels')) principal.labels = m.agent_labels;
  const scopes = m.requested_scopes ?? [];
  const context: Record<string, unknown> = {
    actor_claims: {},
    requested_scopes: scopes,
    challenge_resolved: false,
  };
  if (has(m, 'session_id')) context.session_id = m.session_id;
  if (has(m, 'agent_session_id')) context.agent_session_id = m.agent_session_id;
  if (has(m, 'delegation_edge_id')) context.delegation_edge_id = m.delegation_edge_id;
  const input: PolicyInput = {
    schema_version: '2026-05-20',
    principal,
    resource: { type: 'Resource', identifier: m.resource ?? null, scopes },
    action: { id: 'TokenExchange' },
    context,
  };
  if (has(m, 'session_id')) input.session = { id: m.session_id };
  if (has(m, 'delegation_edge_id')) input.delegation_edge = { id: m.delegation_edge_id };
  return input;
}

const LABELS: Record<string, (e: AuditDetail) => string> = {
  token_exchange: (e) => (e.decision === 'deny' ? `Token denied: ${e.evaluation_status}` : 'Token issued'),
  run_launch: (e) =>
    `Workload launch ${e.decision === 'deny' ? `denied: ${e.evaluation_status}` : 'allowed'}`,
  step_up_issued: () => 'Approval requested',
  step_up_decided: (e) =>
    `Approval decided: ${e.decision === 'approved' ? 'granted' : (e.decision ?? 'unknown')}`,
  step_up_consumed: () => 'Approval consumed',
  gateway_resource_request: (e) => {
    const m = e.metadata_json ?? {};
    const status = m.upstream_status ?? m.gateway_status;
    return `Resource call${m.method ? ` ${String(m.method)}` : ''}${status !== undefined ? ` → ${String(status)}` : ''} (${e.evaluation_status})`;
  },
  replay_detected: () => 'Replay blocked',
  jti_collision: () => 'Token ID collision',
  'control.invoke': (e) => `Control command ${e.decision === 'deny' ? 'denied' : 'run'}`,
};

function summary(e: AuditDetail): string {
  return LABELS[e.event_type]?.(e) ?? `${e.event_type} ${e.decision ?? ''}`.trim();
}

function challengeOf(e: AuditDetail): string | null {
  const c = e.metadata_json?.challenge_id;
  return typeof c === 'string' ? c : null;
}

/** Gaps in the request's stages. `now` decides whether an open approval has expired. */
export function findGaps(events: AuditDetail[], now = Date.now()): Gap[] {
  const gaps: Gap[] = [];
  const ofStage = (s: Stage) => events.filter((e) => stageOf(e.event_type) === s);
  const gatewayResults = ofStage('gateway_result');
  for (const auth of ofStage('authorization')) {
    if (auth.decision !== 'allow') continue;
    const later = gatewayResults.some((g) => g.occurred_at >= auth.occurred_at);
    if (!later) {
      gaps.push({
        stage: 'gateway_result',
        kind: 'missing',
        after_event_id: auth.id,
        message:
          'A token was issued but no gateway result was recorded: the call never completed through the Gateway, ' +
          'or the resource records its own result elsewhere.',
      });
    }
  }
  if (gatewayResults.length > 0 && ofStage('authorization').length === 0) {
    gaps.push({
      stage: 'authorization',
      kind: 'orphaned',
      after_event_id: gatewayResults[0]!.id,
      message: 'A gateway result was recorded without the token exchange that should precede it.',
    });
  }
  const decided = ofStage('approval_decided');
  const consumed = ofStage('approval_consumed');
  for (const issued of ofStage('approval_requested')) {
    const challenge = challengeOf(issued);
    const approval = challenge ? `Approval ${challenge}` : 'An approval';
    const decision = decided.find((d) => challengeOf(d) === challenge || d.request_id === challenge);
    if (!decision) {
      const expires = Date.parse(String(issued.metadata_json?.expires_at ?? ''));
      const expired = Number.isFinite(expires) && expires < now;
      gaps.push({
        stage: 'approval_decided',
        kind: 'undecided',
        after_event_id: issued.id,
        message: expired
          ? `${approval} was requested and expired without a decision.`
          : `${approval} was requested and has not been decided.`,
      });
      continue;
    }
    if (decision.decision === 'approved' && !consumed.some((c) => challengeOf(c) === challenge)) {
      gaps.push({
        stage: 'approval_consumed',
        kind: 'unconsumed',
        after_event_id: decision.id,
        message: `${approval} was granted but never consumed by a token exchange.`,
      });
    }
  }
  return gaps;
}

export function explainRequest(
  requestId: string,
  zoneId: string,
  events: AuditDetail[],
  now = Date.now(),
): DecisionTrace {
  const ordered = [...events].sort((a, b) =>
    a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0,
  );
  const own = ordered.filter((e) => e.request_id === requestId);
  const denied = ordered.filter((e) => e.decision === 'deny');
  const finalDecision =
    denied.length > 0 ? 'deny' : (own.at(-1)?.decision ?? ordered.at(-1)?.decision ?? 'unknown');
  return {
    request_id: requestId,
    zone_id: zoneId,
    final_decision: finalDecision,
    denied: denied.map((e) => ({
      event_id: e.id,
      event_type: e.event_type,
      evaluation_status: e.evaluation_status,
      determining_policies: determiningPolicyNames(e.determining_policies_json),
      diagnostics: e.diagnostics_json,
      metadata: e.metadata_json,
      policy_input: reconstructPolicyInput(e),
    })),
    events: ordered,
    timeline: ordered.map((e) => ({
      stage: stageOf(e.event_type),
      event_id: e.id,
      event_type: e.event_type,
      request_id: e.request_id,
      decision: e.decision,
      evaluation_status: e.evaluation_status,
      occurred_at: e.occurred_at,
      summary: summary(e),
    })),
    gaps: findGaps(ordered, now),
  };
}

/** Challenge ids a request's approval events point at: their decided events carry them as request_id. */
export function linkedRequestIds(events: AuditDetail[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.event_type.startsWith('step_up_')) {
      const c = challengeOf(e);
      if (c && c !== e.request_id) ids.add(c);
    }
  }
  return [...ids];
}
