import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHmac, contentSha256, isoFromMicros, parseOccurredAt, unixNano } from '../../ledger/chain.ts';
import { prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { hmacKeyFromBytes } from '../../ledger/stream-codec.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-services.ts';

describe('occurred_at', () => {
  it('truncates to microseconds instead of rounding', () => {
    expect(parseOccurredAt('2026-05-21T10:00:00.123456789Z')?.iso).toBe('2026-05-21T10:00:00.123456Z');
    expect(parseOccurredAt('2026-05-21T10:00:00.9999999Z')?.iso).toBe('2026-05-21T10:00:00.999999Z');
  });

  it('normalises offsets to UTC', () => {
    expect(parseOccurredAt('2026-05-21T12:30:00+02:30')?.iso).toBe('2026-05-21T10:00:00.000000Z');
    expect(parseOccurredAt('2026-05-21T00:00:00.5-01:00')?.iso).toBe('2026-05-21T01:00:00.500000Z');
  });

  it('refuses impossible dates, missing offsets and instants outside 1970..2262', () => {
    for (const bad of [
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-05-21T24:00:00Z',
      '2026-05-21T10:00:00',
      '2026-05-21 10:00:00Z',
      '1969-12-31T23:59:59Z',
      '2262-01-01T00:00:00Z',
      'yesterday',
      '',
    ]) {
      expect(parseOccurredAt(bad), bad).toBeNull();
    }
  });

  it('prints UnixNano from microseconds without losing digits', () => {
    const ts = parseOccurredAt('2026-05-21T10:00:00.123456Z')!;
    expect(unixNano(ts.us)).toBe('1779357600123456000');
    expect(unixNano(0)).toBe('0');
    expect(isoFromMicros(ts.us)).toBe('2026-05-21T10:00:00.123456Z');
  });
});

describe('chain hashing', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('matches an independent computation in SQL over the stored jsonb text', async () => {
    // the rule, written again in SQL: fields joined with 0x1F, occurred_at as UnixNano, SHA-256 hex
    const events = realisticEvents(200, { seed: 9 }).map((e) => {
      const p = prepareEvent(JSON.stringify(e), null);
      if (!p.ok) throw new Error(p.error);
      return p.event;
    });
    const { rows } = await db.pool.query<{ sha: string }>(
      `SELECT encode(sha256(convert_to(
         id || E'\\x1f' || zone_id || E'\\x1f' || event_type || E'\\x1f' || coalesce(request_id, '') || E'\\x1f' ||
         coalesce(decision, '') || E'\\x1f' || coalesce(psid, '') || E'\\x1f' || coalesce(psvid, '') || E'\\x1f' ||
         coalesce(msha, '') || E'\\x1f' || coalesce(status, '') || E'\\x1f' ||
         coalesce(dp::jsonb::text, 'null') || E'\\x1f' || coalesce(dg::jsonb::text, 'null') || E'\\x1f' ||
         coalesce(md::jsonb::text, 'null') || E'\\x1f' ||
         ((extract(epoch FROM ts::timestamptz) * 1000000)::bigint * 1000)::text, 'UTF8')), 'hex') AS sha
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         WITH ORDINALITY AS t(id, zone_id, event_type, request_id, decision, psid, psvid, msha, status, dp, dg, md, ts, n)
       ORDER BY n`,
      [
        events.map((e) => e.id),
        events.map((e) => e.zone_id),
        events.map((e) => e.event_type),
        events.map((e) => e.request_id),
        events.map((e) => e.decision),
        events.map((e) => e.policy_set_id),
        events.map((e) => e.policy_set_version_id),
        events.map((e) => e.manifest_sha),
        events.map((e) => e.evaluation_status),
        events.map((e) => e.determining_policies_json),
        events.map((e) => e.diagnostics_json),
        events.map((e) => e.metadata_json),
        events.map((e) => e.occurred_at_iso),
      ],
    );
    expect(rows.map((r) => r.sha)).toEqual(events.map((e) => e.content_sha256));
  });

  it('hashes absent JSON fields as the string null and absent text fields as empty', () => {
    const base = {
      id: 'e1',
      zone_id: 'z',
      event_type: 't',
      request_id: null,
      decision: null,
      policy_set_id: null,
      policy_set_version_id: null,
      manifest_sha: null,
      evaluation_status: null,
      determining_policies_json: null,
      diagnostics_json: null,
      metadata_json: null,
      occurred_at_us: 1,
    };
    const withEmpty = { ...base, request_id: '', metadata_json: 'null' };
    expect(contentSha256(base)).toBe(contentSha256(withEmpty));
  });

  it('chains with HMAC(content | prev), empty without a key', () => {
    const key = hmacKeyFromBytes(Buffer.alloc(32, 7));
    expect(chainHmac(null, 'a', '')).toBe('');
    expect(chainHmac(key, 'a', 'b')).not.toBe(chainHmac(key, 'a', ''));
    expect(chainHmac(key, 'a', 'b')).toMatch(/^[0-9a-f]{64}$/);
  });
});
