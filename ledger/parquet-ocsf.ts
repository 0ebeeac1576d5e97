// The Parquet export format: OCSF v1.7.0 Authorization Activity (class_uid 6003) rows with Caracal's
// columns and values (services/audit/internal/event.go), plus the columns ledgerhub needs to
// re-verify the chain offline: occurred_at at microsecond precision, ingested_at,
// prev_content_sha256, ingest_signature and ledger_seq.
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { isoFromMicros, parseOccurredAt } from './chain.ts';
import { ExportFormatError } from './export-ndjson.ts';
import type { ExportRow } from './integrity-row-stream.ts';
import { type ParquetColumn, writeParquet } from './parquet-write.ts';

export const OCSF_CLASS_UID = 6003;
/** Caracal writes 600301 for every row, deny included; kept for compatibility. */
export const OCSF_TYPE_UID = 600301;
export const OCSF_VERSION = '1.7.0';
export const OCSF_PRODUCT = 'caracal';

type Column = {
  name: string;
  type: 'INT32' | 'INT64' | 'STRING';
  /** INT64 values are safe integers (milliseconds, sequence numbers). */
  get: (r: ExportRow) => number | string;
  /** Unique random-looking values (hashes): dictionary and compression cost time and save nothing. */
  raw?: boolean;
  /** Mostly distinct values: no dictionary, compressed. */
  plain?: boolean;
  /** Min/max statistics worth writing (what query engines prune on). */
  stats?: boolean;
};

const s = (v: string | null) => v ?? '';
const deny = (r: ExportRow) => r.decision === 'deny';

/** Caracal's columns in its struct order, then ledgerhub's. */
export const OCSF_COLUMNS: Column[] = [
  { name: 'class_uid', type: 'INT32', get: () => OCSF_CLASS_UID },
  { name: 'type_uid', type: 'INT32', get: () => OCSF_TYPE_UID },
  { name: 'severity_id', type: 'INT32', get: (r) => (deny(r) ? 2 : 1) },
  { name: 'activity_id', type: 'INT32', get: (r) => (deny(r) ? 2 : 1) },
  { name: 'time', type: 'INT64', stats: true, get: (r) => Math.floor(r.occurred_at_us / 1000) },
  { name: 'zone_id', type: 'STRING', stats: true, get: (r) => r.zone_id },
  { name: 'request_id', type: 'STRING', plain: true, get: (r) => s(r.request_id) },
  { name: 'policy_set_version_id', type: 'STRING', get: (r) => s(r.policy_set_version_id) },
  { name: 'decision', type: 'STRING', stats: true, get: (r) => s(r.decision) },
  { name: 'metadata_version', type: 'STRING', get: () => OCSF_VERSION },
  { name: 'product_name', type: 'STRING', get: () => OCSF_PRODUCT },
  { name: 'event_id', type: 'STRING', raw: true, get: (r) => r.id },
  { name: 'event_type', type: 'STRING', stats: true, get: (r) => r.event_type },
  { name: 'policy_set_id', type: 'STRING', get: (r) => s(r.policy_set_id) },
  { name: 'manifest_sha', type: 'STRING', plain: true, get: (r) => s(r.manifest_sha) },
  { name: 'evaluation_status', type: 'STRING', get: (r) => s(r.evaluation_status) },
  { name: 'determining_policies_json', type: 'STRING', get: (r) => s(r.determining_policies_json) },
  { name: 'diagnostics_json', type: 'STRING', get: (r) => s(r.diagnostics_json) },
  { name: 'metadata_json', type: 'STRING', plain: true, get: (r) => s(r.metadata_json) },
  { name: 'content_sha256', type: 'STRING', raw: true, get: (r) => r.content_sha256 },
  { name: 'chain_hmac', type: 'STRING', raw: true, get: (r) => s(r.chain_hmac) },
  { name: 'chain_seq', type: 'INT64', stats: true, get: (r) => r.chain_seq },
  // ledgerhub: what offline re-verification needs beyond Caracal's columns
  { name: 'occurred_at', type: 'STRING', plain: true, get: (r) => r.occurred_at_text },
  { name: 'ingested_at', type: 'STRING', plain: true, get: (r) => r.ingested_at_text },
  { name: 'prev_content_sha256', type: 'STRING', raw: true, get: (r) => s(r.prev_content_sha256) },
  { name: 'ingest_signature', type: 'STRING', raw: true, get: (r) => s(r.ingest_signature) },
  { name: 'ledger_seq', type: 'INT64', stats: true, get: (r) => r.ledger_seq },
];

/**
 * Pages are compressed with Zstandard (level 1, native in Node's zlib): a third of the time of a
 * JavaScript Snappy encoder and less than half its size; every current Parquet reader (Spark, Trino and
 * Athena, DuckDB, pyarrow, BigQuery) reads ZSTD. Objects written with Snappy still decode.
 */
export const PARQUET_CODEC = 'ZSTD';
/** parquet.thrift's CompressionCodec.ZSTD. */
const ZSTD_CODEC_ID = 6;
const zstd = (page: Buffer) => zstdCompressSync(page, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
/** Bounded by the page's declared size: a tampered object cannot inflate without limit. */
export const unzstd = (bytes: Uint8Array, outputLength: number) =>
  zstdDecompressSync(bytes, { maxOutputLength: Math.max(1, outputLength) });

/**
 * Every OCSF column's values in one pass over the rows: what OCSF_COLUMNS' getters compute (a test
 * holds them equal), without a call through a different getter for every value.
 */
export function ocsfColumnValues(rows: readonly ExportRow[]): Record<string, ParquetColumn['values']> {
  const n = rows.length;
  const ints = () => new Int32Array(n);
  const longs = () => new Float64Array(n);
  const strings = () => new Array<string>(n);
  const v = {
    class_uid: ints().fill(OCSF_CLASS_UID),
    type_uid: ints().fill(OCSF_TYPE_UID),
    severity_id: ints(),
    activity_id: ints(),
    time: longs(),
    zone_id: strings(),
    request_id: strings(),
    policy_set_version_id: strings(),
    decision: strings(),
    metadata_version: strings().fill(OCSF_VERSION),
    product_name: strings().fill(OCSF_PRODUCT),
    event_id: strings(),
    event_type: strings(),
    policy_set_id: strings(),
    manifest_sha: strings(),
    evaluation_status: strings(),
    determining_policies_json: strings(),
    diagnostics_json: strings(),
    metadata_json: strings(),
    content_sha256: strings(),
    chain_hmac: strings(),
    chain_seq: longs(),
    occurred_at: strings(),
    ingested_at: strings(),
    prev_content_sha256: strings(),
    ingest_signature: strings(),
    ledger_seq: longs(),
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const severity = deny(r) ? 2 : 1;
    v.severity_id[i] = severity;
    v.activity_id[i] = severity;
    v.time[i] = Math.floor(r.occurred_at_us / 1000);
    v.zone_id[i] = r.zone_id;
    v.request_id[i] = s(r.request_id);
    v.policy_set_version_id[i] = s(r.policy_set_version_id);
    v.decision[i] = s(r.decision);
    v.event_id[i] = r.id;
    v.event_type[i] = r.event_type;
    v.policy_set_id[i] = s(r.policy_set_id);
    v.manifest_sha[i] = s(r.manifest_sha);
    v.evaluation_status[i] = s(r.evaluation_status);
    v.determining_policies_json[i] = s(r.determining_policies_json);
    v.diagnostics_json[i] = s(r.diagnostics_json);
    v.metadata_json[i] = s(r.metadata_json);
    v.content_sha256[i] = r.content_sha256;
    v.chain_hmac[i] = s(r.chain_hmac);
    v.chain_seq[i] = r.chain_seq;
    v.occurred_at[i] = r.occurred_at_text;
    v.ingested_at[i] = r.ingested_at_text;
    v.prev_content_sha256[i] = s(r.prev_content_sha256);
    v.ingest_signature[i] = s(r.ingest_signature);
    v.ledger_seq[i] = r.ledger_seq;
  }
  return v;
}

/** One object of OCSF rows: a row group per 100,000 rows, one page per column chunk. */
export function encodeOcsfParquet(rows: ExportRow[]): Buffer {
  const values = ocsfColumnValues(rows);
  const columns = OCSF_COLUMNS.map(
    (c): ParquetColumn => ({
      name: c.name,
      type: c.type,
      values: values[c.name]!,
      dictionary: !c.raw && !c.plain,
      compressed: !c.raw,
      statistics: c.stats === true,
    }),
  );
  return writeParquet({
    columns,
    rows: rows.length,
    rowGroupRows: 100_000,
    codec: { id: ZSTD_CODEC_ID, compress: zstd },
    createdBy: 'ledgerhub export',
    kvMetadata: [{ key: 'ocsf.class_uid', value: String(OCSF_CLASS_UID) }],
  });
}

/** An object's bytes as the ArrayBuffer the Parquet reader takes (a copy: a Buffer may share a pool). */
export const parquetFile = (bytes: Buffer) =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

const orNull = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** Reads an OCSF Parquet export back into rows; throws ExportFormatError on a damaged object. */
export async function decodeOcsfParquet(bytes: Buffer): Promise<ExportRow[]> {
  let objects: Record<string, unknown>[];
  try {
    objects = (await parquetReadObjects({
      file: parquetFile(bytes),
      compressors: { ZSTD: unzstd },
    })) as Record<string, unknown>[];
  } catch (err) {
    throw new ExportFormatError(`parquet: ${(err as Error).message}`);
  }
  return objects.map((o, i) => {
    const occurred = parseOccurredAt(String(o.occurred_at ?? ''));
    if (!occurred) throw new ExportFormatError(`row ${i + 1}: occurred_at is not an RFC 3339 instant`);
    // a missing column reads as undefined: NaN would slip through every range check after it
    for (const k of ['chain_seq', 'ledger_seq'] as const) {
      const v = o[k];
      if (!((typeof v === 'bigint' || typeof v === 'number') && Number.isSafeInteger(Number(v)))) {
        throw new ExportFormatError(
          `row ${i + 1}: ${k} is ${o[k] === undefined ? 'missing' : 'not an integer'}`,
        );
      }
    }
    return {
      id: String(o.event_id ?? ''),
      zone_id: String(o.zone_id ?? ''),
      event_type: String(o.event_type ?? ''),
      request_id: orNull(o.request_id),
      decision: orNull(o.decision),
      policy_set_id: orNull(o.policy_set_id),
      policy_set_version_id: orNull(o.policy_set_version_id),
      manifest_sha: orNull(o.manifest_sha),
      evaluation_status: orNull(o.evaluation_status),
      determining_policies_json: orNull(o.determining_policies_json),
      diagnostics_json: orNull(o.diagnostics_json),
      metadata_json: orNull(o.metadata_json),
      occurred_at_us: occurred.us,
      occurred_at_text: isoFromMicros(occurred.us),
      ingested_at_text: String(o.ingested_at ?? ''),
      content_sha256: String(o.content_sha256 ?? ''),
      prev_content_sha256: orNull(o.prev_content_sha256),
      chain_hmac: orNull(o.chain_hmac),
      chain_seq: Number(o.chain_seq),
      ingest_signature: orNull(o.ingest_signature),
      ledger_seq: Number(o.ledger_seq),
    };
  });
}
