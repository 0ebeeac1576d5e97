import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../ledger/event.ts';
import { uuidv7 } from '../../ledger/ids.ts';
import { eventsAfter, ledgerHead } from '../../ledger/queries.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';
import { connectSse, type SseEvent } from '../support/sse-client.ts';
import { waitFor } from '../support/wait.ts';

let t: ApiFixture;
beforeAll(async () => {
  t = await createApiFixture('api-tail', {
    LEDGERHUB_SSE_HEARTBEAT_SECS: '1',
    LEDGERHUB_SSE_CLIENT_BUFFER: '20',
    LEDGERHUB_SSE_MAX_CLIENTS: '6',
  });
});
afterAll(async () => t.close());

const auth = () => ({ authorization: `Bearer ${t.readToken}` });
const url = (zone: string, q = '') => `${t.api.url}/v1/zones/${zone}/audit/stream${q}`;
const data = (e: SseEvent) => JSON.parse(e.data) as Record<string, unknown>;

function denial(zone: string, secret = 'x'): AuditEventInput {
  return {
    id: uuidv7(),
    zone_id: zone,
    event_type: 'token_exchange',
    request_id: `req-${uuidv7()}`,
    decision: 'deny',
    evaluation_status: 'scope_mismatch',
    determining_policies_json: [{ policy: 'p' }],
    diagnostics_json: [],
    metadata_json: { access_token: secret, application_id: 'app' },
    occurred_at: new Date().toISOString(),
  };
}

describe('live tail (server-sent events)', () => {
  it('streams new matching events with their ledger_seq as the event id, metadata redacted', async () => {
    const sse = await connectSse(url('zone-t1', '?decision=deny'), auth());
    expect(sse.status).toBe(200);
    const allowed = { ...denial('zone-t1'), decision: 'allow', evaluation_status: 'complete' };
    const denied = denial('zone-t1', 'tok-123');
    const elsewhere = denial('zone-other');
    await t.seed([allowed, elsewhere, denied]);
    const e = await sse.next((x) => x.event === 'audit');
    expect(data(e)).toMatchObject({
      id: denied.id,
      decision: 'deny',
      metadata_json: { access_token: '[redacted]' },
    });
    expect(Number(e.id)).toBe(data(e).ledger_seq);
    expect(sse.events.filter((x) => x.event === 'audit')).toHaveLength(1);
    expect(JSON.stringify(sse.events)).not.toContain('tok-123');
    sse.close();
  });

  it('sends heartbeats on an idle stream', async () => {
    const sse = await connectSse(url('zone-idle'), auth());
    const beat = await sse.next((x) => x.event === 'comment' && /^heartbeat/.test(x.comment ?? ''), 5000);
    expect(beat.comment).toMatch(/^heartbeat \d{4}-/);
    sse.close();
  });

  it('resumes from Last-Event-ID without losing what was committed while disconnected', async () => {
    const first = await connectSse(url('zone-t2'), auth());
    const a = denial('zone-t2');
    await t.seed([a]);
    const seenA = await first.next((x) => x.event === 'audit');
    first.close();
    const missed = [denial('zone-t2'), denial('zone-t2'), denial('zone-t2')];
    await t.seed(missed);
    const again = await connectSse(url('zone-t2'), { ...auth(), 'last-event-id': seenA.id! });
    await waitFor('all missed events', () => again.events.filter((x) => x.event === 'audit').length === 3);
    expect(again.events.filter((x) => x.event === 'audit').map((x) => data(x).id)).toEqual(
      missed.map((m) => m.id),
    );
    again.close();
  });

  it('backfills the newest matching events before going live', async () => {
    const sse = await connectSse(url('zone-t2', '?backfill=2'), auth());
    await waitFor('two backfilled', () => sse.events.filter((x) => x.event === 'audit').length === 2);
    const ids = sse.events.filter((x) => x.event === 'audit').map((x) => Number(x.id));
    expect(ids[0]).toBeLessThan(ids[1]!);
    sse.close();
  });

  it('cuts off a slow client with a reason and never holds up the others', async () => {
    const fast = await connectSse(url('zone-flood'), auth());
    const slow = await connectSse(url('zone-flood'), auth());
    slow.pause();
    const flood = realisticEvents(4000, { seed: 77, zones: ['zone-flood'] }).map((e) => ({
      ...e,
      metadata_json: { ...(e.metadata_json as object), padding: 'p'.repeat(2000) },
    }));
    await t.seed(flood);
    await waitFor(
      'the fast client has everything',
      () => fast.events.filter((x) => x.event === 'audit').length === 4000,
      60_000,
    );
    slow.resume();
    const cut = await slow.next((x) => x.event === 'error', 30_000);
    expect(JSON.parse(cut.data)).toMatchObject({
      error: 'slow_consumer',
      message: expect.stringMatching(/Last-Event-ID \d+/),
    });
    await slow.ended;
    expect(slow.events.filter((x) => x.event === 'audit').length).toBeLessThan(4000);
    const metrics = await t.api.deps.metrics.sseCut.get();
    expect(metrics.values.find((v) => v.labels.reason === 'slow_consumer')?.value).toBeGreaterThanOrEqual(1);
    fast.close();
  });

  it('never reads half of a commit that lands between its two statements (no gaps in ledger_seq)', async () => {
    const now = Date.now();
    const hoursAgo = (h: number) => ({
      ...denial('zone-gap'),
      occurred_at: new Date(now - h * 3_600_000).toISOString(),
    });
    const seen = hoursAgo(2);
    await t.seed([seen]);
    const after = (await ledgerHead(t.fx.db.pool)) - 1;
    let landed = false;
    // the first statement (commit bounds) returns, then a commit straddling its time window lands
    const racing = {
      query: async (text: string, values: unknown[]) => {
        const result = await t.fx.db.pool.query(text, values);
        if (!landed) {
          landed = true;
          await t.seed([hoursAgo(5), hoursAgo(2), hoursAgo(1)]);
        }
        return result;
      },
    } as unknown as pg.Pool;
    const rows = await eventsAfter(racing, after, 500);
    expect(rows.map((r) => r.id)).toEqual([seen.id]);
    const rest = await eventsAfter(t.fx.db.pool, after + 1, 500);
    expect(rest.map((r) => r.ledger_seq)).toEqual([after + 2, after + 3, after + 4]);
  });

  it('refuses a malformed Last-Event-ID, a missing token, and streams beyond the limit', async () => {
    const bad = await t.get('/v1/zones/z/audit/stream', { headers: { 'last-event-id': 'abc' } });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_query' } });
    const anon = await connectSse(url('z'));
    expect(anon.status).toBe(401);
    anon.close();
    const open = await Promise.all(Array.from({ length: 6 }, () => connectSse(url('z'), auth())));
    const extra = await t.get('/v1/zones/z/audit/stream');
    expect(extra).toMatchObject({ status: 503, body: { error: 'unavailable' } });
    for (const c of open) c.close();
  });
});
