// Export: completed hours to a directory and to S3 (the stand-in, If-None-Match enforced), NDJSON.gz and
// OCSF Parquet with signed manifests; late events land in the next export; a run killed midway and
// re-run leaves no duplicate and no gap; verify-export round-trips and finds corrupted or truncated
// objects, naming what is wrong.
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSha256 } from '../../ledger/chain.ts';
import { writeCheckpoint } from '../../ledger/checkpoint-store.ts';
import { runExport } from '../../ledger/export.ts';
import { type ExportDestination, FileDestination, S3Destination } from '../../ledger/export-destination.ts';
import { decodeNdjsonGz, parseNdjsonLine } from '../../ledger/export-ndjson.ts';
import { type ExportVerifyReport, verifyExport } from '../../ledger/export-verify.ts';
import { createMaintenanceMetrics } from '../../ledger/integrity-metrics.ts';
import { decodeOcsfParquet } from '../../ledger/parquet-ocsf.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { startRole } from '../support/role-process.ts';
import { type S3StandIn, startS3StandIn } from '../support/s3/s3-server.ts';
import { waitFor } from '../support/wait.ts';
import { ocsfParquetVariant } from './export-rows.ts';
import {
  appendEvents,
  backdateIngestion,
  ensurePartitions,
  eventsOnDay,
  lastLedgerSeq,
  type TestCheckpointKey,
  testCheckpointKey,
} from './ledger-data.ts';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const CREDS = { accessKeyId: 'AKEXPORT', secretAccessKey: 'export-secret' };
let fx: LedgerFixture;
let ck: TestCheckpointKey;
let s3: S3StandIn;
let dir: string;

beforeAll(async () => {
  fx = await createLedgerFixture('export');
  ck = testCheckpointKey();
  s3 = await startS3StandIn({ buckets: ['audit-archive'], credentials: [CREDS] });
  dir = mkdtempSync(join(tmpdir(), 'lh-export-'));
  await ensurePartitions(fx.db.pool, -6, 7);
  // hour H: 60 events ingested three hours ago
  await appendEvents(fx.db.pool, eventsOnDay(-1, 60, ZONES), fx.key);
  await backdateIngestion(fx.db.pool, 3);
  await writeCheckpoint(fx.db.pool, ck.signer);
});
afterAll(async () => {
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
  await fx.close();
});

const s3Destination = () =>
  new S3Destination({ endpoint: s3.url, bucket: 'audit-archive', region: 'us-east-1', credentials: CREDS });
const exportTo = (
  destination: ExportDestination,
  extra: { dryRun?: boolean; maxObjectEvents?: number; encodeThreads?: number; gzipLevel?: number } = {},
) =>
  runExport(
    { pool: fx.db.pool, destination, signer: ck.signer },
    {
      formats: ['ndjson', 'parquet'],
      prefix: 'audit/',
      graceSecs: 60,
      maxHours: 48,
      maxObjectEvents: 200_000,
      gzipLevel: 4,
      ...extra,
    },
  );
const verify = (source: ExportDestination, prefix = '') =>
  verifyExport(source, prefix, { keys: ck.trusted, hmacKey: fx.key });
const kinds = (r: ExportVerifyReport) => r.faults.map((f) => [f.object.split('/').at(-1), f.kind]);
const s3Env = () => ({
  ...fx.env,
  LEDGERHUB_CHECKPOINT_KEY: ck.privateKeyPem,
  AUDIT_EXPORT_S3_ENDPOINT: s3.url,
  AUDIT_EXPORT_S3_BUCKET: 'audit-archive',
  AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
  LOG_LEVEL: 'warn',
});

describe('export to a directory', () => {
  it('in a dry run, lists the completed hour and writes nothing', async () => {
    const report = await exportTo(new FileDestination(dir), { dryRun: true });
    expect(report.hours).toHaveLength(1);
    expect(report.hours[0]!.events).toBe(60);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes the hour as NDJSON.gz and OCSF Parquet, each with a signed manifest, plus the checkpoint', async () => {
    const report = await exportTo(new FileDestination(dir));
    expect(report.hours.map((h) => h.events)).toEqual([60]);
    const keys = await new FileDestination(dir).list('');
    const hour = report.hours[0]!.hour.slice(0, 13);
    expect(keys.filter((k) => k.includes(hour))).toEqual([
      expect.stringMatching(new RegExp(`^audit/\\d{4}/\\d{2}/\\d{2}/${hour}\\.ndjson\\.gz$`)),
      expect.stringMatching(/\.ndjson\.gz\.manifest\.json$/),
      expect.stringMatching(/\.parquet$/),
      expect.stringMatching(/\.parquet\.manifest\.json$/),
    ]);
    expect(keys).toContain('audit/evidence/checkpoints/000000000001.json');
    const ndjson = decodeNdjsonGz(readFileSync(join(dir, keys[0]!)));
    const parquet = await decodeOcsfParquet(readFileSync(join(dir, keys[2]!)));
    expect(ndjson.map((r) => r.id)).toEqual(parquet.map((r) => r.id));
    expect(ndjson).toHaveLength(60);
  });

  it('writes the same bytes whether units are encoded on threads or on the main thread', async () => {
    const dirs = [0, 2].map(() => mkdtempSync(join(tmpdir(), 'lh-export-threads-')));
    try {
      // small objects, so the hour's units spread over both threads
      for (const [i, threads] of [0, 2].entries())
        await exportTo(new FileDestination(dirs[i]!), { maxObjectEvents: 7, encodeThreads: threads });
      const [inline, threaded] = await Promise.all(dirs.map((d) => new FileDestination(d).list('')));
      expect(inline!.filter((k) => k.endsWith('.parquet')).length).toBeGreaterThan(2);
      expect(threaded).toEqual(inline);
      for (const key of inline!) {
        expect(readFileSync(join(dirs[1]!, key)).equals(readFileSync(join(dirs[0]!, key))), key).toBe(true);
      }
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('stops when a unit fails to encode on its thread, keeps the watermark, and the re-run exports the hour', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lh-export-fail-'));
    try {
      // zlib refuses the level inside the encoding thread, for every unit
      await expect(exportTo(new FileDestination(d), { gzipLevel: 42, maxObjectEvents: 7 })).rejects.toThrow(
        /export encoding: .*level/,
      );
      const again = await exportTo(new FileDestination(d));
      expect(again.hours.map((h) => h.events)).toEqual([60]);
      expect((await verify(new FileDestination(d))).faults).toEqual([]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('reports the encoding time of every unit and the units in flight, back to 0 at the end', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lh-export-metrics-'));
    const metrics = createMaintenanceMetrics();
    try {
      await runExport(
        { pool: fx.db.pool, destination: new FileDestination(d), signer: ck.signer, metrics },
        {
          formats: ['ndjson', 'parquet'],
          prefix: 'audit/',
          graceSecs: 60,
          maxHours: 48,
          maxObjectEvents: 7,
          gzipLevel: 4,
        },
      );
      const encode = (await metrics.exportEncodeDuration.get()).values.find(
        (v) => v.metricName === 'ledgerhub_export_encode_seconds_count',
      );
      expect(encode?.value).toBe(Math.ceil(60 / 7));
      expect((await metrics.exportUnitsInFlight.get()).values[0]?.value).toBe(0);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('maps rows to OCSF Authorization Activity as Caracal does, in ZSTD-compressed pages', async () => {
    const { parquetMetadata, parquetReadObjects } = await import('hyparquet');
    const key = (await new FileDestination(dir).list('audit/')).find((k) => k.endsWith('.parquet'))!;
    const buf = readFileSync(join(dir, key));
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
    const codecs = new Set(
      parquetMetadata(file).row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)),
    );
    expect([...codecs].sort()).toEqual(['UNCOMPRESSED', 'ZSTD']);
    // a reader without a ZSTD decompressor refuses the object rather than misreading it
    await expect(parquetReadObjects({ file })).rejects.toThrow(/ZSTD/);
    const rows = (await parquetReadObjects({
      file,
      compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
    })) as Record<string, unknown>[];
    const deny = rows.find((r) => r.decision === 'deny')!;
    const allow = rows.find((r) => r.decision === 'allow')!;
    expect(allow).toMatchObject({
      class_uid: 6003,
      type_uid: 600301,
      severity_id: 1,
      activity_id: 1,
      metadata_version: '1.7.0',
      product_name: 'caracal',
    });
    expect(deny).toMatchObject({ severity_id: 2, activity_id: 2 });
    expect(typeof allow.time).toBe('bigint');
    expect(Object.keys(allow)).toEqual(
      expect.arrayContaining([
        'event_id',
        'content_sha256',
        'chain_hmac',
        'chain_seq',
        'prev_content_sha256',
        'ledger_seq',
      ]),
    );
  });

  it('round-trips through verify-export, checking rows against the exported checkpoint', async () => {
    const report = await verify(new FileDestination(dir));
    expect(report.faults).toEqual([]);
    expect(report.events).toBe(120);
    expect(report.checkpoints).toBe(1);
    expect(report.objects).toHaveLength(2);
  });

  it('adopts an object an earlier encoder wrote with the same content before a crash, and refuses any other', async () => {
    const keys = await new FileDestination(dir).list('audit/');
    const ndjsonKey = keys.find((k) => k.endsWith('.ndjson.gz'))!;
    const parquetKey = keys.find((k) => k.endsWith('.parquet'))!;
    const ndjson = readFileSync(join(dir, ndjsonKey));
    const parquet = readFileSync(join(dir, parquetKey));
    const lines = gunzipSync(ndjson).toString().trimEnd().split('\n');
    const rows = await decodeOcsfParquet(parquet);
    // a middle event's decision changed, its hash recomputed and the next event's link moved with it
    const forgedLines = [...lines];
    const row = JSON.parse(lines[3]!);
    const forgedRow = { ...row, decision: row.decision === 'deny' ? 'allow' : 'deny' };
    forgedRow.content_sha256 = contentSha256(parseNdjsonLine(JSON.stringify(forgedRow), 4));
    forgedLines[3] = JSON.stringify(forgedRow);
    forgedLines[4] = JSON.stringify({
      ...JSON.parse(lines[4]!),
      prev_content_sha256: forgedRow.content_sha256,
    });

    const cases: { name: string; key: string; bytes: Buffer; refused?: RegExp }[] = [
      { name: 'recompressed', key: ndjsonKey, bytes: gzipSync(gunzipSync(ndjson), { level: 1 }) },
      { name: 'parquet re-encoded', key: parquetKey, bytes: ocsfParquetVariant(rows) },
      {
        name: 'event forged with its hash',
        key: ndjsonKey,
        bytes: gzipSync(`${forgedLines.join('\n')}\n`),
        refused: /\(line 4 differs\)/,
      },
      {
        name: 'a column value changed',
        key: parquetKey,
        bytes: ocsfParquetVariant(rows, {
          edit: (v) => {
            (v.severity_id as Int32Array)[2] = 9;
          },
        }),
        refused: /\(column severity_id differs at row 3\)/,
      },
      {
        name: 'a gzip bomb',
        key: ndjsonKey,
        bytes: gzipSync(Buffer.alloc(64 << 20)),
        refused: /does not decompress to at most \d+ bytes/,
      },
    ];
    for (const c of cases) {
      const copy = mkdtempSync(join(tmpdir(), 'lh-export-adopt-'));
      try {
        // the crash came between the object and its manifest
        cpSync(dir, copy, { recursive: true });
        unlinkSync(join(copy, `${c.key}.manifest.json`));
        writeFileSync(join(copy, c.key), c.bytes);
        const run = exportTo(new FileDestination(copy));
        if (c.refused) {
          await expect(run, c.name).rejects.toMatchObject({
            code: 'export_conflict',
            message: expect.stringMatching(c.refused),
          });
        } else {
          expect((await run).objects_existing, c.name).toBeGreaterThanOrEqual(1);
          const verified = await verify(new FileDestination(copy));
          expect(verified.faults, c.name).toEqual([]);
          expect(verified.events, c.name).toBe(120);
        }
        expect(readFileSync(join(copy, c.key)).equals(c.bytes), c.name).toBe(true);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
  });

  it('exports nothing new when nothing new was committed', async () => {
    const report = await exportTo(new FileDestination(dir));
    expect(report.hours).toEqual([]);
    expect(report.objects_written).toBe(0);
  });

  it('ships late events, and commits that finished after their hour was exported, in the next export', async () => {
    const before = await lastLedgerSeq(fx.db.pool);
    // an event that occurred five days ago, and a commit whose transaction began inside the exported hour
    const late = eventsOnDay(-5, 3, ZONES, 99);
    await appendEvents(fx.db.pool, late, fx.key);
    await backdateIngestion(fx.db.pool, 3, before);
    const mid = await lastLedgerSeq(fx.db.pool);
    const current = eventsOnDay(-1, 9, ZONES, 98);
    await appendEvents(fx.db.pool, current, fx.key);
    await backdateIngestion(fx.db.pool, 2, mid);
    const report = await exportTo(new FileDestination(dir));
    expect(report.hours).toHaveLength(1);
    expect(report.hours[0]!.events).toBe(12);
    const key = report.hours[0]!.objects.find((k) => k.endsWith('.ndjson.gz'))!;
    const ids = decodeNdjsonGz(readFileSync(join(dir, key))).map((r) => r.id);
    for (const e of [...late, ...current]) expect(ids).toContain(e.id);
    expect((await verify(new FileDestination(dir))).faults).toEqual([]);
  });
});

describe('verify-export of one object', () => {
  it('checks a single object file against the manifest beside it', async () => {
    const key = (await new FileDestination(dir).list('audit/')).find((k) => k.endsWith('.parquet'))!;
    const p = startRole(
      'verify-export',
      { PATH: process.env.PATH ?? '', LEDGERHUB_CHECKPOINT_PUBLIC_KEY: ck.publicKeyPem },
      [join(dir, key)],
    );
    const { code } = await p.exited;
    expect(p.logs.map((l) => String(l.msg)).join('\n')).toMatch(/^OK: 1 object\(s\), \d+ event\(s\)/);
    expect(code).toBe(0);
  });
});

describe('verify-export finds damage', () => {
  const damaged = () => {
    const copy = mkdtempSync(join(tmpdir(), 'lh-damaged-'));
    cpSync(dir, copy, { recursive: true });
    return copy;
  };
  const firstKey = async (root: string, suffix: string) =>
    (await new FileDestination(root).list('audit/')).find((k) => k.endsWith(suffix))!;

  it('names a truncated NDJSON object: its hash and size, and that it cannot be read', async () => {
    const copy = damaged();
    const key = await firstKey(copy, '.ndjson.gz');
    const bytes = readFileSync(join(copy, key));
    writeFileSync(join(copy, key), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const report = await verify(new FileDestination(copy));
    expect(report.ok).toBe(false);
    expect(report.faults.filter((f) => f.object === key).map((f) => f.kind)).toEqual([
      'object_hash_mismatch',
      'object_unreadable',
    ]);
    expect(report.faults[0]!.detail).toMatch(/\(truncated\)/);
    rmSync(copy, { recursive: true });
  });

  it('names a truncated Parquet object', async () => {
    const copy = damaged();
    const key = await firstKey(copy, '.parquet');
    const bytes = readFileSync(join(copy, key));
    writeFileSync(join(copy, key), bytes.subarray(0, bytes.length - 100));
    const report = await verify(new FileDestination(copy));
    expect(report.faults.filter((f) => f.object === key).map((f) => f.kind)).toEqual([
      'object_hash_mismatch',
      'object_unreadable',
    ]);
    rmSync(copy, { recursive: true });
  });

  it('names an event edited inside a re-compressed object by zone, chain_seq and kind', async () => {
    const copy = damaged();
    const key = await firstKey(copy, '.ndjson.gz');
    const lines = gunzipSync(readFileSync(join(copy, key)))
      .toString()
      .trimEnd()
      .split('\n');
    const row = JSON.parse(lines[7]!);
    lines[7] = JSON.stringify({ ...row, decision: row.decision === 'deny' ? 'allow' : 'deny' });
    writeFileSync(join(copy, key), gzipSync(`${lines.join('\n')}\n`));
    const report = await verify(new FileDestination(copy));
    const objectFaults = report.faults.filter((f) => f.object === key);
    expect(objectFaults.map((f) => f.kind)).toEqual(['object_hash_mismatch', 'content_mismatch']);
    expect(objectFaults[1]).toMatchObject({ zone_id: row.zone_id, chain_seq: row.chain_seq });
    rmSync(copy, { recursive: true });
  });

  it('names a manifest whose contents were changed as manifest_invalid, and a deleted object as object_missing', async () => {
    const copy = damaged();
    const key = await firstKey(copy, '.parquet');
    const manifestPath = join(copy, `${key}.manifest.json`);
    const doc = JSON.parse(readFileSync(manifestPath, 'utf8'));
    doc.payload = doc.payload.replace(/"event_count":\d+/, '"event_count":1');
    writeFileSync(manifestPath, JSON.stringify(doc));
    const ndjson = await firstKey(copy, '.ndjson.gz');
    unlinkSync(join(copy, ndjson));
    const report = await verify(new FileDestination(copy));
    expect(report.faults).toContainEqual(
      expect.objectContaining({
        object: key,
        kind: 'manifest_invalid',
        detail: 'the signature does not verify',
      }),
    );
    expect(report.faults).toContainEqual(expect.objectContaining({ object: ndjson, kind: 'object_missing' }));
    rmSync(copy, { recursive: true });
  });

  it('names an object moved to another hour as object_moved', async () => {
    const copy = damaged();
    const key = await firstKey(copy, '.parquet');
    const moved = key.replace(
      /T(\d\d)\.parquet$/,
      (_m, h: string) => `T${String((Number(h) + 5) % 24).padStart(2, '0')}.parquet`,
    );
    copyFileSync(join(copy, key), join(copy, moved));
    copyFileSync(join(copy, `${key}.manifest.json`), join(copy, `${moved}.manifest.json`));
    const report = await verify(new FileDestination(copy));
    expect(report.faults).toContainEqual(expect.objectContaining({ object: moved, kind: 'object_moved' }));
    rmSync(copy, { recursive: true });
  });

  it('exits 1 from the command and prints the object, kind and detail', async () => {
    const copy = damaged();
    const key = await firstKey(copy, '.ndjson.gz');
    const bytes = readFileSync(join(copy, key));
    writeFileSync(join(copy, key), bytes.subarray(0, 40));
    const p = startRole(
      'verify-export',
      { PATH: process.env.PATH ?? '', LEDGERHUB_CHECKPOINT_PUBLIC_KEY: ck.publicKeyPem },
      [copy],
    );
    const { code } = await p.exited;
    const out = p.logs.map((l) => String(l.msg)).join('\n');
    expect(code).toBe(1);
    expect(out).toMatch(/^FAILED: 4 object\(s\)/);
    expect(out).toContain(`object=${key} kind=object_hash_mismatch`);
    expect(out).toContain(`object=${key} kind=object_unreadable: gzip:`);
    rmSync(copy, { recursive: true });
  });
});

describe('export to S3', () => {
  it('survives being killed in the middle of a write: the re-run leaves one object per key and no gap', async () => {
    const held = s3.faults.holdPuts();
    const p = startRole('export', s3Env());
    await waitFor('a PUT in flight', () => s3.inFlightPuts() > 0, 30_000);
    p.kill('SIGKILL');
    await p.exited;
    held.release(); // the killed run's PUT still lands, as it can with a real store
    await waitFor('the held PUT to be stored', () => s3.inFlightPuts() === 0);
    const stored = s3.objects('audit-archive').size;
    expect(stored).toBeGreaterThanOrEqual(1);

    const report = await exportTo(s3Destination());
    // a fresh destination sees the late commit already finished, so its first hour holds it too
    expect(report.hours.map((h) => h.events)).toEqual([63, 9]);
    expect(report.objects_existing).toBeGreaterThanOrEqual(1);
    const keys = [...s3.objects('audit-archive').keys()].filter((k) => !k.includes('/evidence/'));
    expect(keys).toHaveLength(8);
    expect(new Set(keys.map((k) => k.replace(/\.manifest\.json$/, ''))).size).toBe(4);
    const verified = await verify(s3Destination(), 'audit/');
    expect(verified.faults).toEqual([]);
    expect(verified.events).toBe(144);
  });

  it('verifies from s3:// with the command, and never overwrites an object on a re-run', async () => {
    const key = [...s3.objects('audit-archive').keys()].find((k) => k.endsWith('.parquet'))!;
    const before = s3.objects('audit-archive').get(key)!.etag;
    await fx.db.pool.query('DELETE FROM audit_export_watermark');
    const rerun = await exportTo(s3Destination());
    expect(rerun.objects_written).toBe(0);
    expect(rerun.objects_existing).toBe(8);
    expect(s3.objects('audit-archive').get(key)!.etag).toBe(before);
    expect(s3.counts.get('PUT 412')).toBeGreaterThanOrEqual(8);
    const p = startRole(
      'verify-export',
      { ...s3Env(), LEDGERHUB_CHECKPOINT_KEY: '', LEDGERHUB_CHECKPOINT_PUBLIC_KEY: ck.publicKeyPem },
      ['s3://audit-archive/audit/'],
    );
    const { code } = await p.exited;
    expect(p.logs.map((l) => String(l.msg)).join('\n')).toMatch(
      /^OK: 4 object\(s\), 144 event\(s\), 1 checkpoint\(s\)/,
    );
    expect(code).toBe(0);
  });

  it('names an object changed in the bucket', async () => {
    const key = [...s3.objects('audit-archive').keys()].find((k) => k.endsWith('.ndjson.gz'))!;
    s3.tamper('audit-archive', key, (b) =>
      Buffer.concat([b.subarray(0, 100), Buffer.from([b[100]! ^ 0xff]), b.subarray(101)]),
    );
    const report = await verify(s3Destination(), 'audit/');
    expect(kinds(report)[0]).toEqual([key.split('/').at(-1), 'object_hash_mismatch']);
  });
});
