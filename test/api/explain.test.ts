import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionTraceSchema } from '../../api/schemas.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { type explainRequest, findGaps } from '../../ledger/explain.ts';
import type { AuditDetail } from '../../ledger/queries.ts';
import { scenarioEvents, seededRng } from '../../ledger/scenarios.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';

let t: ApiFixture;
const ZONE = 'zone-explain';
const at = Date.parse('2026-11-26T09:00:00Z');
const ctx = (seed: number) => ({ rng: seededRng(seed), zone: ZONE, at });

const denied = scenarioEvents('denied_exchange', ctx(1));
const allowed = scenarioEvents('allowed_call', ctx(2));
const noResult = scenarioEvents('exchange_without_result', ctx(3));
const granted = scenarioEvents('approval_granted', ctx(4));
const pending = scenarioEvents('approval_pending', ctx(5));
const rejected = scenarioEvents('approval_rejected', ctx(6));

beforeAll(async () => {
  t = await createApiFixture('api-explain');
  await t.seed([...denied, ...allowed, ...noResult, ...granted, ...pending, ...rejected]);
});
afterAll(async () => t.close());

type Trace = ReturnType<typeof explainRequest> & {
  integrity: { status: string; faults: unknown[] };
  related_request_ids: string[];
};

async function explain(requestId: string): Promise<Trace> {
  const r = await t.get(`/v1/zones/${ZONE}/audit/by-request/${requestId}/explain`);
  expect(r.status).toBe(200);
  expect(DecisionTraceSchema.safeParse(r.body).error).toBeUndefined();
  return r.body as Trace;
}

describe('explain', () => {
  it('explains a denial: final decision, the determining policy, diagnostics and a replayable policy_input', async () => {
    const e = denied[0]!;
    const trace = await explain(e.request_id);
    expect(trace.final_decision).toBe('deny');
    expect(trace.denied).toHaveLength(1);
    const d = trace.denied[0]!;
    expect(d.event_id).toBe(e.id);
    expect(d.evaluation_status).toBe(e.evaluation_status);
    expect(d.determining_policies).toEqual([(e.determining_policies_json![0] as { policy: string }).policy]);
    expect(d.diagnostics).toEqual(e.diagnostics_json);
    const m = e.metadata_json as Record<string, unknown>;
    expect(d.policy_input).toMatchObject({
      schema_version: '2026-05-20',
      principal: {
        type: 'Application',
        id: m.application_id,
        zone_id: ZONE,
        agent_session_id: m.agent_session_id,
      },
      resource: { type: 'Resource', identifier: m.resource, scopes: m.requested_scopes },
      action: { id: 'TokenExchange' },
      context: { actor_claims: {}, requested_scopes: m.requested_scopes, challenge_resolved: false },
    });
    // metadata is redacted here as on every read path
    expect(d.metadata).toMatchObject({ session_id: '[redacted]' });
    expect(trace.timeline.map((s) => s.stage)).toEqual(['authorization']);
    expect(trace.timeline[0]!.summary).toBe(`Token denied: ${e.evaluation_status}`);
    expect(trace.integrity).toMatchObject({ status: 'verified', faults: [] });
  });

  it('shows an allowed call as authorization then gateway result, with no gaps', async () => {
    const trace = await explain(allowed[0]!.request_id);
    expect(trace.final_decision).toBe('allow');
    expect(trace.timeline.map((s) => s.stage)).toEqual(['authorization', 'gateway_result']);
    expect(trace.gaps).toEqual([]);
  });

  it('names the missing gateway result of a token exchange that never completed', async () => {
    const trace = await explain(noResult[0]!.request_id);
    expect(trace.gaps).toEqual([
      expect.objectContaining({ stage: 'gateway_result', kind: 'missing', after_event_id: noResult[0]!.id }),
    ]);
  });

  it('follows an approval to its decision recorded under the challenge id', async () => {
    const trace = await explain(granted[0]!.request_id);
    expect(trace.related_request_ids).toHaveLength(1);
    expect(trace.timeline.map((s) => s.stage)).toEqual([
      'approval_requested',
      'approval_decided',
      'approval_consumed',
      'authorization',
      'gateway_result',
    ]);
    expect(trace.gaps).toEqual([]);
    expect(trace.integrity.status).toBe('verified');
  });

  it('names an approval requested and never decided', async () => {
    const trace = await explain(pending[0]!.request_id);
    expect(trace.gaps).toEqual([expect.objectContaining({ stage: 'approval_decided', kind: 'undecided' })]);
  });

  it('explains a rejected approval as a denial by the approval policy', async () => {
    const trace = await explain(rejected[0]!.request_id);
    expect(trace.final_decision).toBe('deny');
    expect(trace.denied[0]).toMatchObject({
      evaluation_status: 'approval_rejected',
      determining_policies: ['step-up-for-writes'],
    });
  });

  it('reports failed integrity when an involved row was changed', async () => {
    const e = allowed[1]!;
    await t.fx.db.pool.query("UPDATE audit_events SET evaluation_status = 'complete-edited' WHERE id = $1", [
      e.id,
    ]);
    const trace = await explain(e.request_id);
    expect(trace.integrity.status).toBe('failed');
    expect(trace.integrity.faults).toContainEqual(
      expect.objectContaining({ event_id: e.id, kind: 'content_mismatch' }),
    );
  });

  it('answers 404 for an unknown request and 400 for a hostile request id', async () => {
    expect(await t.get(`/v1/zones/${ZONE}/audit/by-request/nope/explain`)).toMatchObject({
      status: 404,
      body: { error: 'request_not_found' },
    });
    const r = await t.get(`/v1/zones/${ZONE}/audit/by-request/${encodeURIComponent("1' OR 1=1")}/explain`);
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_request_id' } });
  });

  it('finds the zone of a request id', async () => {
    const r = await t.get(`/v1/audit/requests/${denied[0]!.request_id}`);
    expect(r.body).toEqual({ request_id: denied[0]!.request_id, zones: [{ zone_id: ZONE, events: 1 }] });
  });
});

describe('gap rules', () => {
  const detail = (e: AuditEventInput): AuditDetail => ({
    ...e,
    request_id: e.request_id,
    policy_set_id: e.policy_set_id ?? null,
    policy_set_version_id: e.policy_set_version_id ?? null,
    manifest_sha: e.manifest_sha ?? null,
    metadata_json: (e.metadata_json ?? null) as Record<string, unknown> | null,
    ingested_at: e.occurred_at,
  });

  it('calls an approval that outlived its expiry expired, not pending', () => {
    const gaps = findGaps(pending.map(detail), at + 3600_000);
    expect(gaps[0]!.message).toMatch(/expired without a decision/);
  });

  it('flags a gateway result with no token exchange before it', () => {
    const gaps = findGaps([detail(allowed[1]!)]);
    expect(gaps).toEqual([expect.objectContaining({ stage: 'authorization', kind: 'orphaned' })]);
  });

  it('flags an approval granted but never consumed', () => {
    const gaps = findGaps(granted.slice(0, 2).map(detail));
    expect(gaps).toEqual([expect.objectContaining({ stage: 'approval_consumed', kind: 'unconsumed' })]);
  });
});

describe('single events and the caller', () => {
  it('returns one event by id in its zone, and 404 elsewhere', async () => {
    const e = denied[0]!;
    expect(await t.get(`/v1/zones/${ZONE}/audit/events/${e.id}`)).toMatchObject({
      status: 200,
      body: { id: e.id, metadata_json: { session_id: '[redacted]' } },
    });
    expect(await t.get(`/v1/zones/other/audit/events/${e.id}`)).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    });
  });

  it('tells a token its name and scopes', async () => {
    expect((await t.get('/v1/whoami')).body).toEqual({ name: 'reader', scopes: ['audit:read'] });
    expect((await t.get('/v1/whoami', { token: t.adminToken })).body).toEqual({
      name: 'admin',
      scopes: ['audit:admin'],
    });
  });
});
