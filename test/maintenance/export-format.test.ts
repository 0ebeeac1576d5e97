// Export formats and planning, pure: NDJSON and OCSF Parquet carry every hashed field exactly (hashes
// recompute from the file), manifests describe their rows, object keys follow Caracal's layout.
import { describe, expect, it } from 'vitest';
import { contentSha256 } from '../../ledger/chain.ts';
import { decodeNdjsonGz, encodeNdjsonGz, ndjsonLine, parseNdjsonLine } from '../../ledger/export-ndjson.ts';
import { objectKey, splitParts } from '../../ledger/export-plan.ts';
import { isoFromUtcText, microsFromUtcText } from '../../ledger/integrity-row-stream.ts';
import { compareWithManifest, manifestPayload, objectDigest, zoneRuns } from '../../ledger/manifest.ts';
import {
  decodeOcsfParquet,
  encodeOcsfParquet,
  OCSF_COLUMNS,
  ocsfColumnValues,
} from '../../ledger/parquet-ocsf.ts';
import { exportRows, ocsfParquetVariant, TRICKY_EVENT } from './export-rows.ts';

describe('NDJSON export', () => {
  it('round-trips every field so content hashes recompute from the file, odd values included', () => {
    const original = exportRows(50, [TRICKY_EVENT]);
    const back = decodeNdjsonGz(encodeNdjsonGz(original, 4));
    expect(back).toEqual(
      original
        .map((r) => ({ ...r, copyPrefix: undefined, idsCopyPrefix: undefined, occurred_at_iso: undefined }))
        .map(strip),
    );
    for (const r of back) expect(contentSha256(r)).toBe(r.content_sha256);
    expect(back.at(-1)!.determining_policies_json).toBe(
      '[{"big": 12345678901234567890, "exp": 100, "policy": "p", "weight": 1.50}]',
    );
  });

  it('writes one JSON object per line with the chain columns', () => {
    const line = JSON.parse(ndjsonLine(exportRows(1)[0]!));
    expect(Object.keys(line)).toEqual([
      'id',
      'zone_id',
      'event_type',
      'request_id',
      'decision',
      'policy_set_id',
      'policy_set_version_id',
      'manifest_sha',
      'evaluation_status',
      'determining_policies_json',
      'diagnostics_json',
      'metadata_json',
      'occurred_at',
      'ingested_at',
      'content_sha256',
      'prev_content_sha256',
      'chain_hmac',
      'chain_seq',
      'ingest_signature',
      'ledger_seq',
    ]);
    expect(line.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('says which line is broken', () => {
    expect(() => parseNdjsonLine('{"id":', 7)).toThrow(/line 7: not JSON/);
    expect(() =>
      parseNdjsonLine('{"id":"a","occurred_at":"yesterday","chain_seq":1,"ledger_seq":1}', 3),
    ).toThrow(/line 3: occurred_at/);
    const at = '"occurred_at":"2026-11-27T10:00:00.000000Z"';
    for (const seqs of [
      '"chain_seq":1,"ledger_seq":5.5',
      '"chain_seq":"1","ledger_seq":5',
      '"chain_seq":1',
    ]) {
      expect(() => parseNdjsonLine(`{"id":"a",${at},${seqs}}`, 2), seqs).toThrow(
        /line 2: chain_seq and ledger_seq must be integers/,
      );
    }
  });
});

describe('OCSF Parquet export', () => {
  it('round-trips the rows and their hashes, odd values included', async () => {
    const original = exportRows(40, [TRICKY_EVENT]);
    const back = await decodeOcsfParquet(encodeOcsfParquet(original));
    expect(back.map((r) => [r.id, r.chain_seq, r.ledger_seq, r.occurred_at_us])).toEqual(
      original.map((r) => [r.id, r.chain_seq, r.ledger_seq, r.occurred_at_us]),
    );
    for (const r of back) expect(contentSha256(r)).toBe(r.content_sha256);
  });

  it('fills every column in one pass with exactly what the column getters (and the forwarder) compute', () => {
    const r = exportRows(40, [TRICKY_EVENT]);
    const values = ocsfColumnValues(r);
    expect(Object.keys(values)).toEqual(OCSF_COLUMNS.map((c) => c.name));
    for (const c of OCSF_COLUMNS) {
      expect(Array.from(values[c.name]! as ArrayLike<unknown>), c.name).toEqual(r.map(c.get));
    }
  });

  it('refuses an object without its ledger_seq column rather than read NaN into every range check', async () => {
    const r = exportRows(5);
    const withoutLedgerSeq = ocsfParquetVariant(r, { omit: ['ledger_seq'] });
    await expect(decodeOcsfParquet(withoutLedgerSeq)).rejects.toThrow(/row 1: ledger_seq is missing/);
  });

  it('writes identical bytes for identical rows (a re-run compares equal)', () => {
    const r = exportRows(30);
    expect(encodeOcsfParquet(r).equals(encodeOcsfParquet(r))).toBe(true);
    expect(encodeNdjsonGz(r, 4).equals(encodeNdjsonGz(r, 4))).toBe(true);
  });
});

describe('manifests and planning', () => {
  it('describes each zone as chain runs and notices rows that do not match', () => {
    const r = exportRows(30);
    const body = encodeNdjsonGz(r, 1);
    const m = manifestPayload(
      {
        objectKey: 'audit/x.ndjson.gz',
        format: 'ndjson.gz',
        hourMs: 0,
        part: 1,
        parts: 1,
        afterSeq: 99,
        lastSeq: 129,
      },
      r.length,
      zoneRuns(r),
      objectDigest(body),
    );
    expect(m.zones.map((z) => [z.zone_id, z.count, z.runs.length])).toEqual([
      ['z1', r.filter((x) => x.zone_id === 'z1').length, 1],
      ['z2', r.filter((x) => x.zone_id === 'z2').length, 1],
    ]);
    expect(compareWithManifest(r, m)).toEqual([]);
    const dropped = r.filter((_, i) => i !== 4);
    expect(compareWithManifest(dropped, m)).toEqual([
      `holds 29 event(s), the manifest says 30`,
      expect.stringMatching(
        new RegExp(`^zone ${r[4]!.zone_id}: holds \\d+ event\\(s\\), the manifest says \\d+$`),
      ),
      expect.stringMatching(/holds chain_seq .* the manifest says/),
    ]);
  });

  it('names objects as Caracal does, with part numbers only for split hours', () => {
    const hour = Date.UTC(2026, 10, 27, 13);
    expect(objectKey('audit/', hour, 1, 1, 'parquet')).toBe('audit/2026/11/27/2026-11-27T13.parquet');
    expect(objectKey('audit/', hour, 2, 3, 'ndjson')).toBe('audit/2026/11/27/2026-11-27T13.p002.ndjson.gz');
  });

  it('splits an hour into parts that tile its commit-order range', () => {
    expect(splitParts(100, 350, 100).map((p) => [p.afterSeq, p.lastSeq])).toEqual([
      [100, 200],
      [200, 300],
      [300, 350],
    ]);
    expect(splitParts(5, 5, 100)).toEqual([{ part: 1, parts: 1, afterSeq: 5, lastSeq: 5 }]);
  });
});

function strip(r: Record<string, unknown>): Record<string, unknown> {
  const { copyPrefix, idsCopyPrefix, occurred_at_iso, ...rest } = r;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

describe('timestamps as Postgres prints them in UTC', () => {
  it('reads any number of fractional digits as exact microseconds', () => {
    expect(microsFromUtcText('2026-11-27 13:48:22+00')).toBe(Date.UTC(2026, 10, 27, 13, 48, 22) * 1000);
    expect(microsFromUtcText('2026-11-27 13:48:22.5+00')).toBe(
      Date.UTC(2026, 10, 27, 13, 48, 22) * 1000 + 500_000,
    );
    expect(microsFromUtcText('1970-01-01 00:00:00.000001+00')).toBe(1);
    expect(isoFromUtcText('2026-11-27 13:48:22.0123+00')).toBe('2026-11-27T13:48:22.012300Z');
    expect(isoFromUtcText('2026-11-27 13:48:22+00')).toBe('2026-11-27T13:48:22.000000Z');
  });

  it('refuses text that is not UTC in ISO style', () => {
    expect(() => microsFromUtcText('2026-11-27 13:48:22.5+02')).toThrow(/unexpected timestamp/);
    expect(() => microsFromUtcText('Fri Nov 27 13:48:22 2026 UTC')).toThrow(/unexpected timestamp/);
  });
});
