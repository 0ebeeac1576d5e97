import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListPageSchema } from '../../api/schemas.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { uuidv7 } from '../../ledger/ids.ts';
import { encodeCursor } from '../../ledger/list-cursor.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';

let t: ApiFixture;
const ZONE = 'zone-list';
const base = Date.parse('2026-11-20T12:00:00Z');

function event(i: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    id: uuidv7(base + i * 1000),
    zone_id: ZONE,
    event_type: i % 3 === 0 ? 'gateway_resource_request' : 'token_exchange',
    request_id: `req-${i}`,
    decision: i % 4 === 0 ? 'deny' : 'allow',
    evaluation_status: i % 4 === 0 ? 'scope_mismatch' : 'complete',
    determining_policies_json: [{ policy: 'baseline-resource-scope' }],
    diagnostics_json: [],
    metadata_json: {
      application_id: i % 2 === 0 ? 'app_even' : 'app_odd',
      agent_session_id: `sess_${i % 5}`,
      session_id: `auth_${i % 7}`,
      agent_labels: i % 2 === 0 ? ['prod', 'ci'] : ['staging'],
      resource: 'resource://github/repos',
      password: 'hunter2',
      nested: { client_secret: 's3cr3t', ok: 'visible' },
    },
    occurred_at: new Date(base + i * 1000).toISOString(),
    ...overrides,
  };
}

const events = Array.from({ length: 60 }, (_, i) => event(i));

beforeAll(async () => {
  t = await createApiFixture('api-list');
  await t.seed([...events, ...realisticEvents(50, { seed: 3, zones: ['zone-other'] })]);
});
afterAll(async () => t.close());

type Page = { items: Record<string, unknown>[]; next_cursor: string | null };

async function page(query: string): Promise<Page> {
  const r = await t.get(`/v1/zones/${ZONE}/audit?${query}`);
  expect(r.status).toBe(200);
  return r.body as Page;
}

describe('GET /v1/zones/:zoneId/audit', () => {
  it('returns Caracal’s shape, newest first, without chain columns, matching the published schema', async () => {
    const p = await page('limit=5');
    expect(ListPageSchema.safeParse(p).success).toBe(true);
    expect(p.items.map((i) => i.request_id)).toEqual(['req-59', 'req-58', 'req-57', 'req-56', 'req-55']);
    expect(Object.keys(p.items[0]!)).not.toContain('chain_hmac');
    expect(Object.keys(p.items[0]!)).not.toContain('content_sha256');
    expect(p.items[0]!.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('pages with an opaque cursor until the last page, which has none', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const p = await page(`limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...p.items.map((i) => String(i.id)));
      if (!p.next_cursor) break;
      cursor = p.next_cursor;
    }
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
  });

  it('filters by time, request, decision, event types, application, session, authority record and label', async () => {
    const since = new Date(base + 10_000).toISOString();
    const until = new Date(base + 20_000).toISOString();
    expect((await page(`since=${since}&until=${until}&limit=100`)).items).toHaveLength(10);
    expect((await page('request_id=req-7')).items.map((i) => i.request_id)).toEqual(['req-7']);
    expect((await page('decision=deny&limit=100')).items.every((i) => i.decision === 'deny')).toBe(true);
    expect((await page('decision=deny&limit=100')).items).toHaveLength(15);
    expect((await page('event_type=gateway_resource_request&limit=100')).items).toHaveLength(20);
    expect((await page('event_type=gateway_resource_request,token_exchange&limit=100')).items).toHaveLength(
      60,
    );
    expect((await page('application_id=app_odd&limit=100')).items).toHaveLength(30);
    expect((await page('session_id=sess_3&limit=100')).items).toHaveLength(12);
    expect((await page('authority_record_id=auth_2&limit=100')).items).toHaveLength(9);
    expect((await page('label=ci&limit=100')).items).toHaveLength(30);
  });

  it('redacts sensitive metadata keys at any depth', async () => {
    const [item] = (await page('limit=1')).items;
    expect(item!.metadata_json).toMatchObject({
      password: '[redacted]',
      session_id: '[redacted]',
      nested: { client_secret: '[redacted]', ok: 'visible' },
      resource: 'resource://github/repos',
    });
  });

  it('projects chosen row and metadata fields', async () => {
    const p = await page('limit=2&fields=id,decision,application_id,agent_labels');
    expect(Object.keys(p.items[0]!)).toEqual(['id', 'decision', 'application_id', 'agent_labels']);
    expect(p.items[0]!.application_id).toBe('app_odd');
  });

  it('exports CSV with a download filename, flattened metadata and a formula-injection guard', async () => {
    await t.seed([
      event(1000, {
        request_id: 'req-csv',
        evaluation_status: '=HYPERLINK("http://evil")',
        zone_id: 'zone/csv"1',
      }),
    ]);
    const r = await t.get('/v1/zones/zone%2Fcsv%221/audit?format=csv');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toBe('attachment; filename="audit-zone_csv_1.csv"');
    const [header, row] = r.text.trim().split('\r\n');
    expect(header!.split(',').slice(0, 3)).toEqual(['id', 'occurred_at', 'event_type']);
    expect(header).toContain('application_id');
    expect(row).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });

  it('answers an unknown zone with an empty list, not an error', async () => {
    expect(await page('limit=5').then(() => t.get('/v1/zones/no-such-zone/audit'))).toMatchObject({
      status: 200,
      body: { items: [], next_cursor: null },
    });
  });

  it('treats SQL-looking input as data', async () => {
    for (const hostile of ["x' OR '1'='1", "'; DROP TABLE audit_events; --", '%', '\\']) {
      const r = await t.get(
        `/v1/zones/${encodeURIComponent(hostile)}/audit?application_id=${encodeURIComponent(hostile)}`,
      );
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ items: [], next_cursor: null });
    }
    expect((await page('limit=1')).items).toHaveLength(1);
  });

  it.each([
    ['limit=0', 'invalid_query', /limit: must be at least 1/],
    ['limit=1001', 'invalid_query', /limit: must be at most 1000/],
    ['limit=ten', 'invalid_query', /limit/],
    ['limit=-5', 'invalid_query', /limit/],
    ['since=yesterday', 'invalid_query', /since/],
    ['until=2026-13-01T00:00:00Z', 'invalid_query', /until/],
    ['decision=maybe', 'invalid_query', /decision/],
    ['format=xml', 'invalid_query', /format/],
    [`event_type=${Array.from({ length: 17 }, (_, i) => `t${i}`).join(',')}`, 'invalid_query', /at most 16/],
    ['event_type=bad%20type', 'invalid_query', /event_type/],
    ['request_id=has%20space', 'invalid_query', /request_id/],
    [`application_id=${'x'.repeat(300)}`, 'invalid_query', /application_id/],
    ['decision=allow&decision=deny', 'invalid_query', /decision/],
    ['fields=id,password', 'invalid_fields', /password/],
    ['fields=,', 'invalid_fields', /cannot be selected/],
    ['cursor=not-a-cursor!', 'invalid_cursor', /cursor/],
    [`cursor=${Buffer.from('{"ts":"x","id":"y"}').toString('base64url')}`, 'invalid_cursor', /cursor/],
    [`cursor=${'A'.repeat(2000)}`, 'invalid_query', /cursor/],
  ])('refuses %s with 400 %s', async (query, code, message) => {
    const r = await t.get(`/v1/zones/${ZONE}/audit?${query}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: code, message: expect.stringMatching(message) });
  });

  it('accepts a cursor it issued even when hand-built, and refuses one from the future format', async () => {
    const good = encodeCursor({ ts: new Date(base + 5_000).toISOString(), id: 'zzz' });
    expect((await page(`cursor=${good}&limit=100`)).items).toHaveLength(6);
  });
});

describe('GET /v1/zones/:zoneId/audit/by-request/:requestId', () => {
  it('returns the request’s events oldest first', async () => {
    const r = await t.get(`/v1/zones/${ZONE}/audit/by-request/req-3`);
    expect(r.status).toBe(200);
    expect((r.body as Page).items.map((i) => i.request_id)).toEqual(['req-3']);
  });

  it('answers 404 request_not_found for an unknown request and 400 for a malformed id', async () => {
    expect(await t.get(`/v1/zones/${ZONE}/audit/by-request/req-nope`)).toMatchObject({
      status: 404,
      body: { error: 'request_not_found' },
    });
    const bad = await t.get(`/v1/zones/${ZONE}/audit/by-request/${encodeURIComponent('a b')}`);
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request_id' } });
    const long = await t.get(`/v1/zones/${ZONE}/audit/by-request/${'r'.repeat(129)}`);
    expect(long).toMatchObject({ status: 400, body: { error: 'invalid_request_id' } });
  });
});
