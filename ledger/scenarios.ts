// Realistic Caracal audit traffic for the demo stack, benchmarks and tests: multi-stage requests
// (token exchange then gateway result, approvals issued / decided / consumed, denials with
// diagnostics, replays detected), deterministic for a given seed.
import type { AuditEventInput } from './event.ts';
import { uuidv7 } from './ids.ts';

export type Rng = () => number;

/** Mulberry32: small, fast, deterministic. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const hex = (rng: Rng, n: number) =>
  Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');

const APPLICATIONS = [
  { id: 'app_ci_runner', name: 'ci-runner', method: 'managed' },
  { id: 'app_support_agent', name: 'support-agent', method: 'dcr' },
  { id: 'app_billing_sync', name: 'billing-sync', method: 'managed' },
  { id: 'app_research_bot', name: 'research-bot', method: 'dcr' },
  { id: 'app_deploy_bot', name: 'deploy-bot', method: 'managed' },
] as const;

const RESOURCES = [
  { id: 'resource://github/repos', scopes: ['repo:read', 'repo:write'], host: 'api.github.com' },
  { id: 'resource://stripe/charges', scopes: ['charges:read', 'refunds:write'], host: 'api.stripe.com' },
  { id: 'resource://salesforce/accounts', scopes: ['accounts:read'], host: 'example.my.salesforce.com' },
  { id: 'resource://slack/chat', scopes: ['chat:write'], host: 'slack.com' },
  { id: 'resource://aws/s3', scopes: ['s3:GetObject', 's3:PutObject'], host: 's3.amazonaws.com' },
] as const;

const DENIALS = [
  {
    status: 'scope_mismatch',
    reason: 'resource_not_granted',
    policy: 'baseline-resource-scope',
    message: 'requested scope is not granted to this application',
  },
  {
    status: 'resource_not_found',
    reason: 'no_rule_matched',
    policy: 'default-deny',
    message: 'no policy rule matched the resource',
  },
  {
    status: 'approval_rejected',
    reason: 'policy_denied',
    policy: 'step-up-for-writes',
    message: 'approver rejected the request',
  },
  {
    status: 'operation_not_permitted',
    reason: 'confinement_violation',
    policy: 'agent-confinement',
    message: 'agent session is confined to read operations',
  },
  {
    status: 'rate_limited',
    reason: 'restriction_active',
    policy: 'rate-guard',
    message: 'rate limit for this application exceeded',
  },
  {
    status: 'resource_outside_delegation',
    reason: 'delegation_scope_exceeded',
    policy: 'delegation-bounds',
    message: 'delegated permission does not cover this resource',
  },
] as const;

const LABELS = ['prod', 'staging', 'ci', 'batch', 'interactive', 'pii', 'finance'] as const;

export interface ScenarioContext {
  rng: Rng;
  zone: string;
  /** Milliseconds since the epoch of the request's first event. */
  at: number;
}

export type ScenarioKind =
  | 'allowed_call'
  | 'denied_exchange'
  | 'exchange_without_result'
  | 'approval_granted'
  | 'approval_rejected'
  | 'approval_pending'
  | 'replay_detected'
  | 'control_command'
  | 'workload_launch';

const WEIGHTS: [ScenarioKind, number][] = [
  ['allowed_call', 46],
  ['denied_exchange', 20],
  ['exchange_without_result', 4],
  ['approval_granted', 9],
  ['approval_rejected', 4],
  ['approval_pending', 2],
  ['replay_detected', 4],
  ['control_command', 6],
  ['workload_launch', 5],
];

export function pickScenario(rng: Rng): ScenarioKind {
  let r = rng() * WEIGHTS.reduce((s, [, w]) => s + w, 0);
  for (const [kind, w] of WEIGHTS) {
    r -= w;
    if (r < 0) return kind;
  }
  return 'allowed_call';
}

function iso(ms: number, rng: Rng): string {
  const micros = Math.floor(rng() * 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

interface Actor {
  app: (typeof APPLICATIONS)[number];
  resource: (typeof RESOURCES)[number];
  sessionId: string;
  agentSessionId: string;
  labels: string[];
  traceId: string;
  policySetId: string;
  policySetVersionId: string;
  manifestSha: string;
}

function actor(ctx: ScenarioContext): Actor {
  const { rng } = ctx;
  const app = pick(rng, APPLICATIONS);
  return {
    app,
    resource: pick(rng, RESOURCES),
    sessionId: `auth_${hex(rng, 12)}`,
    agentSessionId: `sess_${hex(rng, 12)}`,
    labels: [pick(rng, LABELS), pick(rng, LABELS)].filter((v, i, a) => a.indexOf(v) === i),
    traceId: hex(rng, 32),
    policySetId: `ps_${ctx.zone.replace(/[^a-z0-9]/g, '').slice(0, 8)}`,
    policySetVersionId: `psv_${1 + Math.floor(rng() * 40)}`,
    manifestSha: `sha256:${hex(rng, 64)}`,
  };
}

function base(
  ctx: ScenarioContext,
  a: Actor,
  at: number,
  fields: Pick<AuditEventInput, 'event_type' | 'request_id' | 'decision' | 'evaluation_status'> &
    Partial<AuditEventInput>,
): AuditEventInput {
  return {
    id: uuidv7(at, () => Math.floor(ctx.rng() * 256)),
    zone_id: ctx.zone,
    policy_set_id: a.policySetId,
    policy_set_version_id: a.policySetVersionId,
    manifest_sha: a.manifestSha,
    determining_policies_json: [],
    diagnostics_json: [],
    occurred_at: iso(at, ctx.rng),
    ...fields,
  };
}

function exchangeMetadata(a: Actor, rng: Rng, scopes: string[]): Record<string, unknown> {
  return {
    application_id: a.app.id,
    application_name: a.app.name,
    application_registration_method: a.app.method,
    resource: a.resource.id,
    requested_scopes: scopes,
    session_id: a.sessionId,
    agent_session_id: a.agentSessionId,
    subject_kind: rng() < 0.8 ? 'application' : 'user',
    agent_lifecycle: rng() < 0.7 ? 'task' : 'service',
    agent_labels: a.labels,
    agent_depth: Math.floor(rng() * 3),
    delegation_hop_count: Math.floor(rng() * 2),
    trace_id: a.traceId,
  };
}

function tokenExchange(
  ctx: ScenarioContext,
  a: Actor,
  requestId: string,
  at: number,
  allow: boolean,
): AuditEventInput {
  const { rng } = ctx;
  const scopes = [pick(rng, a.resource.scopes)];
  if (allow) {
    return base(ctx, a, at, {
      event_type: 'token_exchange',
      request_id: requestId,
      decision: 'allow',
      evaluation_status: 'complete',
      determining_policies_json: [{ policy: 'baseline-resource-scope' }],
      diagnostics_json: [{ code: 'scope_allowed', scopes }],
      metadata_json: exchangeMetadata(a, rng, scopes),
    });
  }
  const denial = pick(rng, DENIALS);
  return base(ctx, a, at, {
    event_type: 'token_exchange',
    request_id: requestId,
    decision: 'deny',
    evaluation_status: denial.status,
    determining_policies_json: [{ policy: denial.policy }],
    diagnostics_json: [{ reason: denial.reason, message: denial.message, scopes }],
    metadata_json: { ...exchangeMetadata(a, rng, scopes), reason: denial.reason },
  });
}

function gatewayResult(ctx: ScenarioContext, a: Actor, requestId: string, at: number): AuditEventInput {
  const { rng } = ctx;
  const upstream = rng() < 0.9 ? 200 : pick(rng, [201, 204, 403, 404, 429, 500, 502]);
  const resultClass = upstream < 300 ? 'success' : upstream < 500 ? 'client_error' : 'server_error';
  return base(ctx, a, at, {
    event_type: 'gateway_resource_request',
    request_id: requestId,
    decision: 'allow',
    evaluation_status:
      upstream >= 500 ? 'upstream_error' : upstream >= 400 ? 'upstream_rejected' : 'complete',
    metadata_json: {
      application_id: a.app.id,
      resource: a.resource.id,
      subject_fingerprint: `fp_${hex(rng, 16)}`,
      method: pick(rng, ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']),
      gateway_status: upstream,
      latency_ms: Math.round(5 + rng() * 400),
      trace_id: a.traceId,
      subject_kind: 'application',
      upstream_host: a.resource.host,
      auth_mode: 'bearer',
      provider_id: `prov_${hex(rng, 6)}`,
      connection_id: `conn_${hex(rng, 6)}`,
      upstream_status: upstream,
      result_class: resultClass,
      response_bytes: Math.floor(rng() * 50_000),
    },
  });
}

function stepUp(
  ctx: ScenarioContext,
  a: Actor,
  kind: 'step_up_issued' | 'step_up_decided' | 'step_up_consumed',
  requestId: string,
  challengeId: string,
  at: number,
  decision: string,
): AuditEventInput {
  const { rng } = ctx;
  const meta: Record<string, unknown> = {
    challenge_id: challengeId,
    tier: pick(rng, ['standard', 'elevated']),
    approver_class: 'subject',
    privacy_mode: 'minimal',
    binding: hex(rng, 64),
    expires_at: new Date(at + 10 * 60_000).toISOString(),
    application_id: a.app.id,
    session_id: a.sessionId,
    agent_session_id: a.agentSessionId,
    agent_labels: a.labels,
  };
  if (kind === 'step_up_decided') {
    meta.approver_plane = 'subject';
    meta.approver_session_id = `sess_${hex(rng, 12)}`;
  }
  return base(ctx, a, at, {
    event_type: kind,
    // as in Caracal, the decided event is keyed by the challenge id
    request_id: kind === 'step_up_decided' ? challengeId : requestId,
    decision,
    evaluation_status: 'complete',
    metadata_json: meta,
  });
}

/** One request's events, in the order the producers would emit them. */
export function scenarioEvents(kind: ScenarioKind, ctx: ScenarioContext): AuditEventInput[] {
  const a = actor(ctx);
  const rng = ctx.rng;
  const requestId = uuidv7(ctx.at, () => Math.floor(rng() * 256));
  const t = (offsetMs: number) => ctx.at + offsetMs;
  switch (kind) {
    case 'allowed_call':
      return [
        tokenExchange(ctx, a, requestId, t(0), true),
        gatewayResult(ctx, a, requestId, t(20 + rng() * 200)),
      ];
    case 'denied_exchange':
      return [tokenExchange(ctx, a, requestId, t(0), false)];
    case 'exchange_without_result':
      return [tokenExchange(ctx, a, requestId, t(0), true)];
    case 'approval_granted':
    case 'approval_rejected':
    case 'approval_pending': {
      const challenge = `chal_${hex(rng, 16)}`;
      const events = [stepUp(ctx, a, 'step_up_issued', requestId, challenge, t(0), 'pending')];
      if (kind === 'approval_pending') return events;
      const approved = kind === 'approval_granted';
      events.push(
        stepUp(
          ctx,
          a,
          'step_up_decided',
          requestId,
          challenge,
          t(30_000),
          approved ? 'approved' : 'rejected',
        ),
      );
      if (!approved) {
        const denied = tokenExchange(ctx, a, requestId, t(30_050), false);
        denied.evaluation_status = 'approval_rejected';
        denied.diagnostics_json = [{ reason: 'policy_denied', message: 'approver rejected the request' }];
        denied.metadata_json = { ...denied.metadata_json, reason: 'policy_denied' };
        denied.determining_policies_json = [{ policy: 'step-up-for-writes' }];
        events.push(denied);
        return events;
      }
      events.push(stepUp(ctx, a, 'step_up_consumed', requestId, challenge, t(30_100), 'consumed'));
      events.push(tokenExchange(ctx, a, requestId, t(30_120), true));
      events.push(gatewayResult(ctx, a, requestId, t(30_300)));
      return events;
    }
    case 'replay_detected': {
      const jti = hex(rng, 24);
      return [
        tokenExchange(ctx, a, requestId, t(0), true),
        gatewayResult(ctx, a, requestId, t(80)),
        base(ctx, a, t(5_000), {
          event_type: 'replay_detected',
          request_id: requestId,
          decision: 'deny',
          evaluation_status: 'anomaly',
          diagnostics_json: [{ reason: 'jti_reused', message: 'token presented twice' }],
          metadata_json: {
            jti,
            resource: a.resource.id,
            client_id: a.app.id,
            subject_fp: `fp_${hex(rng, 16)}`,
            request_id: requestId,
          },
        }),
      ];
    }
    case 'control_command':
      return [
        base(ctx, a, t(0), {
          event_type: 'control.invoke',
          request_id: requestId,
          decision: rng() < 0.85 ? 'allow' : 'deny',
          evaluation_status: 'complete',
          metadata_json: {
            subject: `operator:${pick(rng, ['alice', 'bob', 'carol'])}`,
            jti: hex(rng, 24),
            client_id: 'caracal-console',
            command: pick(rng, ['session', 'grant', 'policy']),
            subcommand: pick(rng, ['revoke', 'list', 'rotate']),
            reason: 'incident follow-up',
            idempotency_key: hex(rng, 16),
            authorized_by: 'control-key',
          },
        }),
      ];
    case 'workload_launch':
      return [
        base(ctx, a, t(0), {
          event_type: 'run_launch',
          request_id: requestId,
          decision: rng() < 0.9 ? 'allow' : 'deny',
          evaluation_status: rng() < 0.9 ? 'complete' : 'workload_auth_failed',
          metadata_json: exchangeMetadata(a, rng, []),
        }),
      ];
  }
}

export interface TrafficOptions {
  seed?: number;
  zones?: string[];
  /** Spread events' occurred_at over [start, end) ms; defaults to "now". */
  startMs?: number;
  endMs?: number;
}

export const DEFAULT_ZONES = [
  'zone-acme-prod',
  'zone-acme-staging',
  'zone-globex',
  'zone-initech',
  'zone-umbrella',
];

/** An endless stream of realistic requests; each call returns the next request's events. */
export function trafficGenerator(opts: TrafficOptions = {}): {
  rng: Rng;
  next(kind?: ScenarioKind): AuditEventInput[];
} {
  const rng = seededRng(opts.seed ?? Date.now());
  const zones = opts.zones ?? DEFAULT_ZONES;
  return {
    rng,
    next(kind?: ScenarioKind) {
      const span = opts.startMs !== undefined && opts.endMs !== undefined ? opts.endMs - opts.startMs : 0;
      const at = span > 0 ? opts.startMs! + Math.floor(rng() * span) : Date.now();
      return scenarioEvents(kind ?? pickScenario(rng), { rng, zone: pick(rng, zones), at });
    },
  };
}

/** Exactly `n` events of realistic traffic (the last request may be cut short). */
export function realisticEvents(n: number, opts: TrafficOptions = {}): AuditEventInput[] {
  const gen = trafficGenerator(opts);
  const out: AuditEventInput[] = [];
  while (out.length < n) out.push(...gen.next());
  return out.slice(0, n);
}
