import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken, parseTokens } from '../../api/auth.ts';
import { uuidv7 } from '../../ledger/ids.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';

let t: ApiFixture;
beforeAll(async () => {
  t = await createApiFixture('api-auth', { METRICS_BEARER: 'scrape' });
  await t.seed(realisticEvents(20, { seed: 2, zones: ['zone-a'] }));
});
afterAll(async () => t.close());

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate when the token is missing', async () => {
    const r = await t.get('/v1/zones/zone-a/audit', { token: null });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="ledgerhub"');
    expect(r.body).toEqual({ error: 'unauthorized', message: 'a bearer token is required' });
  });

  it('answers 401 invalid_token for a wrong or malformed token', async () => {
    for (const token of ['lh_wrong', `${t.readToken}x`, '']) {
      const r = await t.get('/v1/zones/zone-a/audit', { token });
      expect(r.status).toBe(401);
    }
    const r = await t.get('/v1/zones/zone-a/audit', { token: 'lh_wrong' });
    expect(r.headers['www-authenticate']).toBe('Bearer realm="ledgerhub", error="invalid_token"');
    const basic = await t.get('/v1/zones/zone-a/audit', {
      token: null,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.status).toBe(401);
  });

  it('answers 403 for a read token on an admin route, and lets admin tokens read', async () => {
    const r = await t.post('/v1/audit/dlq/replay', { token: t.readToken });
    expect(r).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: expect.stringContaining('audit:admin') },
    });
    expect((await t.get('/v1/zones/zone-a/audit', { token: t.adminToken })).status).toBe(200);
  });

  it('keeps tokens only as hashes and refuses a malformed token list naming the problem', () => {
    const { token, entry } = newToken('ci', ['audit:read']);
    expect(JSON.stringify(entry)).not.toContain(token);
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(() => parseTokens('[{"name":"x","sha256":"abc","scopes":["audit:read"]}]')).toThrow(
      /entry 0.sha256/,
    );
    expect(() => parseTokens('[{"name":"x","sha256":"' + 'a'.repeat(64) + '","scopes":["root"]}]')).toThrow(
      /scopes/,
    );
    expect(() => parseTokens('not json')).toThrow(/not valid JSON/);
  });
});

describe('operations', () => {
  it('serves /health, /ready and an OpenAPI document that covers every route', async () => {
    expect((await t.get('/health', { token: null })).body).toEqual({ ok: true });
    expect((await t.get('/ready', { token: null })).body).toEqual({ ready: true });
    const doc = (await t.get('/openapi.json', { token: null })).body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/zones/{zoneId}/audit',
      '/v1/zones/{zoneId}/audit/by-request/{requestId}',
      '/v1/zones/{zoneId}/audit/by-request/{requestId}/explain',
      '/v1/zones/{zoneId}/audit/stream',
      '/v1/zones/{zoneId}/audit/verify',
      '/v1/audit/dlq',
      '/v1/audit/dlq/{id}',
      '/v1/audit/dlq/replay',
      '/v1/audit/events/{eventId}',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const list = doc.paths['/v1/zones/{zoneId}/audit']!.get as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['since', 'until', 'limit', 'cursor', 'fields', 'format']),
    );
  });

  it('serves metrics behind METRICS_BEARER', async () => {
    expect((await t.get('/metrics', { token: null })).status).toBe(401);
    const r = await t.get('/metrics', { token: 'scrape' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('ledgerhub_api_request_duration_seconds_bucket');
    expect(r.text).toContain('ledgerhub_api_errors_total{code="unauthorized"}');
  });

  it('answers unknown routes with not_found and oversized bodies with payload_too_large', async () => {
    expect(await t.get('/v1/nothing-here')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const big = await t.post('/v1/audit/dlq/replay', {
      token: t.adminToken,
      body: { pad: 'x'.repeat(70_000) },
    });
    expect(big).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
  });

  it('verifies a zone’s chain over a time range', async () => {
    const r = await t.get('/v1/zones/zone-a/audit/verify');
    expect(r.body).toMatchObject({ ok: true, checked: 20, faults: [] });
  });
});

describe('read-after-write', () => {
  it('says whether an event is stored, waiting for it when asked', async () => {
    const [e] = realisticEvents(1, { seed: 9, zones: ['zone-a'] });
    const waiting = t.get(`/v1/audit/events/${e!.id}?wait=10`);
    await t.fx.xadd(e!);
    const r = await waiting;
    expect(r).toMatchObject({ status: 200, body: { event_id: e!.id, ingested: true, zone_id: 'zone-a' } });
    expect((r.body as { ledger_seq: number }).ledger_seq).toBe(21);
  });

  it('answers 404 for an event never sent, and points at the dead letter of a refused one', async () => {
    expect(await t.get(`/v1/audit/events/${uuidv7()}`)).toMatchObject({
      status: 404,
      body: { ingested: false, dead_letter: null },
    });
    const [e] = realisticEvents(1, { seed: 10 });
    await t.fx.xadd(e!, { sign: false });
    const r = await t.get(`/v1/audit/events/${e!.id}?wait=1`);
    expect(r.status).toBe(404);
    const deadline = Date.now() + 10_000;
    let body = r.body as { dead_letter: { reason: string } | null };
    while (!body.dead_letter && Date.now() < deadline)
      body = (await t.get(`/v1/audit/events/${e!.id}?wait=0.5`)).body as typeof body;
    expect(body.dead_letter).toMatchObject({ reason: 'hmac_verify_failed', replayable: false });
  });
});
