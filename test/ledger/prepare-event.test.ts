import { describe, expect, it } from 'vitest';
import { eventCopyData } from '../../ledger/append-batch.ts';
import { AuditEventSchema } from '../../ledger/event.ts';
import { copyField, packCopyPrefixes, prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';

const valid = {
  id: '0192f0c4-7a9b-7cc3-8e0f-3b1f3c2d4e5f',
  zone_id: 'zone-a',
  event_type: 'token.exchange',
  request_id: 'req-1',
  decision: 'allow',
  manifest_sha: 'sha256:3a6e',
  evaluation_status: 'complete',
  determining_policies_json: [{ id: 'baseline-resource-scope' }],
  diagnostics_json: [{ code: 'scope_allowed' }],
  metadata_json: { resource: 'resource://api', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
  occurred_at: '2026-05-21T10:00:00.123456Z',
};

function error(input: unknown): string {
  const r = prepareEvent(typeof input === 'string' ? input : JSON.stringify(input), null);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('preparing an event', () => {
  it("accepts Caracal's interoperability fixture and tolerates unknown fields", () => {
    const r = prepareEvent(JSON.stringify({ ...valid, future_field: { x: 1 } }), null);
    expect(r.ok).toBe(true);
  });

  it('accepts every event of the demo generator', () => {
    for (const e of realisticEvents(500, { seed: 5 })) {
      expect(AuditEventSchema.safeParse(e).success).toBe(true);
      expect(prepareEvent(JSON.stringify(e), null).ok).toBe(true);
    }
  });

  it('names the field and the problem for schema violations', () => {
    expect(error({ ...valid, zone_id: undefined })).toBe(
      'schema: zone_id: Invalid input: expected string, received undefined',
    );
    expect(error({ ...valid, decision: 7 })).toMatch(/^schema: decision: .*expected string/);
    expect(error({ ...valid, determining_policies_json: 'p1' })).toMatch(
      /^schema: determining_policies_json:/,
    );
    expect(error({ ...valid, diagnostics_json: [1.5] })).toMatch(/^schema: diagnostics_json\.0:/);
    expect(error({ ...valid, metadata_json: [] })).toMatch(/^schema: metadata_json:/);
    expect(error({ ...valid, metadata_json: { session_id: 'x'.repeat(300) } })).toMatch(
      /metadata_json\.session_id: .*at most 255/,
    );
    expect(error({ ...valid, occurred_at: '2026-05-21' })).toMatch(/^schema: occurred_at:/);
    expect(error({ ...valid, occurred_at: '2026-02-30T00:00:00Z' })).toMatch(
      /occurred_at: not a valid instant/,
    );
    expect(error({ ...valid, id: '' })).toMatch(/^schema: id: must not be empty/);
  });

  it('reports bad JSON and non-object payloads', () => {
    expect(error('{"id": ')).toMatch(/JSON/);
    expect(error('[1,2]')).toBe('event must be a JSON object');
    expect(error('null')).toBe('event must be a JSON object');
  });

  it('refuses numbers Postgres cannot store instead of allocating them', () => {
    expect(error(JSON.stringify(valid).replace('"trace_id"', '"n":1e999999,"trace_id"'))).toMatch(
      /number out of range/,
    );
  });

  it('strips NUL characters everywhere and keeps hostile text as data', () => {
    const hostile = "'); DROP TABLE audit_events; -- <script>alert(1)</script> \u202e\ud83d\ude00";
    const r = prepareEvent(
      JSON.stringify({
        ...valid,
        request_id: `req\u0000-1`,
        evaluation_status: hostile,
        metadata_json: { 'k\u0000': 'v\u0000' },
      }),
      null,
    );
    if (!r.ok) throw new Error(r.error);
    expect(r.event.request_id).toBe('req-1');
    expect(r.event.evaluation_status).toBe(hostile);
    expect(r.event.metadata_json).toBe('{"k": "v"}');
  });

  it('refuses an event whose id is only NUL characters', () => {
    expect(error({ ...valid, id: '\u0000\u0000' })).toMatch(/must not be empty after removing NUL/);
  });

  it('escapes tabs, newlines and backslashes for COPY', () => {
    expect(copyField('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
    expect(copyField(null)).toBe('\\N');
    const r = prepareEvent(JSON.stringify({ ...valid, evaluation_status: 'x\ty' }), null);
    expect(r.ok && Buffer.from(r.event.copyPrefix).toString('utf8').includes('x\\ty')).toBe(true);
  });

  it('packs a batch of COPY prefixes into one transferable buffer, each row a view into it', () => {
    const rows = ['a', 'ünï', 'c'].map((status) => {
      const r = prepareEvent(
        JSON.stringify({ ...valid, id: `id-${status}`, evaluation_status: status }),
        null,
      );
      if (!r.ok) throw new Error(r.error);
      return r.event;
    });
    const before = rows.map((r) => Buffer.from(r.copyPrefix).toString('utf8'));
    const packed = packCopyPrefixes(rows);
    expect(packed.byteLength).toBe(before.reduce((n, s) => n + Buffer.byteLength(s), 0));
    expect(rows.every((r) => r.copyPrefix.buffer === packed)).toBe(true);
    expect(rows.map((r) => Buffer.from(r.copyPrefix).toString('utf8'))).toEqual(before);
  });

  it('assembles COPY data as bytes: prefixes and suffixes in order, across chunk boundaries', () => {
    const big = 'ß'.repeat(200_000); // 400 KB of UTF-8: one row larger than a chunk
    const rows = [1, 2, 3, 4].map((n) => {
      const r = prepareEvent(
        JSON.stringify({
          ...valid,
          id: `id-${n}`,
          metadata_json: { note: n === 2 ? big : 'x'.repeat(90_000) },
        }),
        null,
      );
      if (!r.ok) throw new Error(r.error);
      return r.event;
    });
    const chunks = eventCopyData(rows, (r, i) => `${i}\t${r.id}\n`);
    const expected = rows
      .map((r, i) => `${Buffer.from(r.copyPrefix).toString('utf8')}${i}\t${r.id}\n`)
      .join('');
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('keeps exact number text where a JavaScript number would change it', () => {
    const text = JSON.stringify(valid).replace(
      '"trace_id"',
      '"cost":1.50,"big":12345678901234567890,"e":1e2,"s":"a\\"1.5","trace_id"',
    );
    const r = prepareEvent(text, null);
    if (!r.ok) throw new Error(r.error);
    expect(r.event.metadata_json).toContain('"e": 100');
    expect(r.event.metadata_json).toContain('"big": 12345678901234567890');
    expect(r.event.metadata_json).toContain('"cost": 1.50');
  });
});
