import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterReason, deadLetterFields } from '../../ledger/dead-letter.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { decodeStreamEntry, encodeStreamFields } from '../../ledger/stream-codec.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';
import { waitFor } from '../support/wait.ts';

let t: ApiFixture;
const [replayable, parked] = realisticEvents(2, { seed: 40, zones: ['zone-d'] });

beforeAll(async () => {
  t = await createApiFixture('api-dlq');
  // one entry the worker could not store for a transient reason, one that failed its signature
  const good = encodeStreamFields(replayable!.id, JSON.stringify(replayable), t.fx.key).map((f) =>
    Buffer.from(f),
  );
  await t.fx.redis.xadd(
    t.fx.dlqStream,
    '*',
    ...deadLetterFields(
      decodeStreamEntry('1-1', good),
      DeadLetterReason.transientExceeded('57P01 terminating'),
      Date.now(),
    ),
  );
  await t.fx.xadd(parked!, { sign: false });
  await waitFor('two dead letters', async () => (await t.fx.dlqEntries()).length === 2);
});
afterAll(async () => t.close());

type Entry = {
  id: string;
  reason: string;
  replayable: boolean;
  event_id: string;
  zone_id: string;
  source_sig: string | null;
};

describe('dead letters', () => {
  it('lists entries with Caracal’s fields, oldest first, paged', async () => {
    const r = await t.get('/v1/audit/dlq?limit=1');
    const body = r.body as { entries: Entry[]; next_cursor: string; size: number };
    expect(body.size).toBe(2);
    expect(body.entries[0]).toMatchObject({ replayable: true, event_id: replayable!.id, zone_id: 'zone-d' });
    const next = (await t.get(`/v1/audit/dlq?limit=1&start=${body.next_cursor}`)).body as {
      entries: Entry[];
      next_cursor: null;
    };
    expect(next.entries[0]).toMatchObject({
      reason: 'hmac_verify_failed',
      replayable: false,
      source_sig: null,
    });
    expect(next.next_cursor).toBeNull();
  });

  it('shows one entry with its source event and fields, 404 for an unknown id, 400 for a malformed one', async () => {
    const { entries } = (await t.get('/v1/audit/dlq')).body as { entries: Entry[] };
    const one = await t.get(`/v1/audit/dlq/${entries[1]!.id}`);
    expect(one.body).toMatchObject({
      source_event: { id: parked!.id },
      fields: { reason: 'hmac_verify_failed' },
    });
    expect((await t.get('/v1/audit/dlq/1-999')).status).toBe(404);
    expect(await t.get('/v1/audit/dlq/abc')).toMatchObject({ status: 400, body: { error: 'invalid_query' } });
  });

  it('replays only replayable entries, which are then stored, and keeps the rest', async () => {
    const r = await t.post('/v1/audit/dlq/replay', { token: t.adminToken });
    expect(r.body).toEqual({ scanned: 2, replayed: 1, skipped: 1 });
    const stored = await t.get(`/v1/audit/events/${replayable!.id}?wait=10`);
    expect(stored.body).toMatchObject({ ingested: true });
    const left = (await t.get('/v1/audit/dlq')).body as { entries: Entry[] };
    expect(left.entries.map((e) => e.reason)).toEqual(['hmac_verify_failed']);
  });
});
