import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevForwarding } from '../../forwarder/dev-sinks.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';
import { waitFor } from '../support/wait.ts';

let t: ApiFixture;
let forwarding: Awaited<ReturnType<typeof startDevForwarding>>;

beforeAll(async () => {
  t = await createApiFixture('api-sinks');
  forwarding = await startDevForwarding({ redisUrl: t.fx.env.REDIS_URL!, databaseUrl: t.fx.db.url });
  await t.seed(realisticEvents(40, { seed: 12 }));
});
afterAll(async () => {
  await forwarding.stop();
  await t.close();
});

type Health = { name: string; type: string; deliveredThrough: number; lagEvents: number; breaker: string };

describe('/v1/sinks', () => {
  it('lists every sink with its delivery health once the forwarder has delivered', async () => {
    const sinks = await waitFor('all delivered', async () => {
      const r = (await t.get('/v1/sinks')).body as { sinks: Health[] };
      return r.sinks.length === 3 && r.sinks.every((s) => s.deliveredThrough === 40) ? r.sinks : undefined;
    });
    expect(sinks.map((s) => s.type).sort()).toEqual(['elasticsearch', 'splunkHec', 'webhook']);
    for (const s of sinks) expect(s).toMatchObject({ lagEvents: 0, breaker: 'closed' });
  });

  it('shows one sink, its (empty) dead letters, and answers 404 for an unknown one', async () => {
    const { sinks } = (await t.get('/v1/sinks')).body as { sinks: Health[] };
    const name = sinks[0]!.name;
    expect((await t.get(`/v1/sinks/${name}`)).body).toMatchObject({ name, deliveredThrough: 40 });
    expect((await t.get(`/v1/sinks/${name}/dead-letters`)).body).toMatchObject({
      sink: name,
      deadLetters: [],
    });
    expect(await t.get('/v1/sinks/no-such-sink')).toMatchObject({
      status: 404,
      body: { error: 'sink_not_found' },
    });
    expect(await t.get('/v1/sinks/Bad_Name')).toMatchObject({
      status: 400,
      body: { error: 'invalid_query' },
    });
  });

  it('lets only admins replay dead letters and re-enable a sink', async () => {
    const { sinks } = (await t.get('/v1/sinks')).body as { sinks: Health[] };
    const name = sinks[0]!.name;
    expect((await t.post(`/v1/sinks/${name}/dead-letters/replay`)).status).toBe(403);
    expect(await t.post(`/v1/sinks/${name}/dead-letters/replay`, { token: t.adminToken })).toMatchObject({
      status: 200,
      body: { sink: name, requested: 0 },
    });
    expect(await t.post(`/v1/sinks/${name}/enable`, { token: t.adminToken })).toMatchObject({
      status: 200,
      body: { enabled: true },
    });
  });
});
