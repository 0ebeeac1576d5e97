import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';

let t: ApiFixture;
beforeAll(async () => {
  t = await createApiFixture('api-retention', { AUDIT_RETENTION_DAYS: '90' });
});
afterAll(async () => t.close());

async function put(body: string, token = t.adminToken) {
  const r = await request(`${t.api.url}/v1/audit-retention`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}

describe('/v1/audit-retention', () => {
  it('reports the ceiling when nothing was set', async () => {
    expect((await t.get('/v1/audit-retention')).body).toEqual({
      retention_days: 90,
      max_days: 90,
      updated_by: null,
      updated_at: null,
    });
  });

  it('lets an admin shorten retention and records who did', async () => {
    const r = await put('{"retention_days": 30}');
    expect(r).toMatchObject({ status: 200, body: { retention_days: 30, max_days: 90, updated_by: 'admin' } });
    expect((await t.get('/v1/audit-retention')).body).toMatchObject({
      retention_days: 30,
      updated_by: 'admin',
    });
  });

  it('refuses a value above the ceiling with retention_above_limit and max_days', async () => {
    expect(await put('{"retention_days": 91}')).toEqual({
      status: 400,
      body: { error: 'retention_above_limit', message: expect.stringContaining('90'), max_days: 90 },
    });
  });

  it.each([
    ['{"retention_days": 0}'],
    ['{"retention_days": 1.5}'],
    ['{"retention_days": "30"}'],
    ['{}'],
    ['{"retention_days": 30, "extra": 1}'],
    ['not json'],
  ])('refuses the body %s with invalid_body', async (body) => {
    expect(await put(body)).toMatchObject({ status: 400, body: { error: 'invalid_body' } });
  });

  it('refuses a read token', async () => {
    expect(await put('{"retention_days": 10}', t.readToken)).toMatchObject({
      status: 403,
      body: { error: 'forbidden' },
    });
  });
});
