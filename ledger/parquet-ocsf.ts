// The Parquet export format: OCSF v1.7.0 Authorization Activity (class_uid 6003) rows with Caracal's
// columns and values (services/audit/internal/event.go), plus the columns ledgerhub needs to
// re-verify the chain offline: occurred_at at microsecond precision, ingested_at,
// prev_content_sha256, ingest_signature and ledger_seq.
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { isoFromMicros, parseOccurredAt } from './chain.ts';
import { ExportFormatError } from './export-ndjson.ts';
import type { ExportRow } from './integrity-row-stream.ts';

export const OCSF_CLASS_UID = 6003;
/** Caracal writes 600301 for every row, deny included; kept for compatibility. */
export const OCSF_TYPE_UID = 600301;
export const OCSF_VERSION = '1.7.0';
export const OCSF_PRODUCT = 'caracal';

type Column = {
  name: string;
  type: 'INT32' | 'INT64' | 'STRING';
  get: (r: ExportRow) => number | bigint | string;
  /** Unique random-looking values (hashes): dictionary and snappy cost time and save nothing. */
  raw?: boolean;
  /** Mostly distinct values: skip the dictionary attempt, keep compression. */
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
  { name: 'time', type: 'INT64', stats: true, get: (r) => BigInt(Math.floor(r.occurred_at_us / 1000)) },
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
  { name: 'chain_seq', type: 'INT64', stats: true, get: (r) => BigInt(r.chain_seq) },
  // ledgerhub: what offline re-verification needs beyond Caracal's columns
  { name: 'occurred_at', type: 'STRING', plain: true, get: (r) => r.occurred_at_text },
  { name: 'ingested_at', type: 'STRING', plain: true, get: (r) => r.ingested_at_text },
  { name: 'prev_content_sha256', type: 'STRING', raw: true, get: (r) => s(r.prev_content_sha256) },
  { name: 'ingest_signature', type: 'STRING', raw: true, get: (r) => s(r.ingest_signature) },
  { name: 'ledger_seq', type: 'INT64', stats: true, get: (r) => BigInt(r.ledger_seq) },
];

/**
 * Pages are compressed with Zstandard (level 1, native in Node's zlib): a third of the time of the
 * JavaScript Snappy encoder and less than half its size; every current Parquet reader (Spark, Trino and
 * Athena, DuckDB, pyarrow, BigQuery) reads ZSTD. Objects written with Snappy still decode.
 */
export const PARQUET_CODEC = 'ZSTD';
const zstd = (bytes: Uint8Array) =>
  zstdCompressSync(bytes, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
/** Bounded by the page's declared size: a tampered object cannot inflate without limit. */
const unzstd = (bytes: Uint8Array, outputLength: number) =>
  zstdDecompressSync(bytes, { maxOutputLength: Math.max(1, outputLength) });

/**
 * A string column as UTF-8 byte views into one buffer: no TextEncoder call and allocation per value,
 * for the columns written PLAIN.
 */
export function utf8Column(values: string[]): Uint8Array[] {
  // each value's own UTF-8 length (a lone surrogate is 3 bytes, U+FFFD, in both byteLength and write;
  // joining first could re-pair two halves split across values and shift every later offset)
  const lengths = values.map((v) => Buffer.byteLength(v, 'utf8'));
  const bytes = Buffer.allocUnsafeSlow(lengths.reduce((a, b) => a + b, 0));
  const out: Uint8Array[] = new Array(values.length);
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const n = bytes.write(values[i]!, offset, lengths[i]!, 'utf8');
    out[i] = new Uint8Array(bytes.buffer, bytes.byteOffset + offset, n);
    offset += n;
  }
  return out;
}

export function encodeOcsfParquet(rows: ExportRow[]): Buffer {
  const columnData: ColumnSource[] = OCSF_COLUMNS.map((c) => {
    const strings = () => rows.map((r) => c.get(r) as string);
    const data =
      c.type === 'INT64'
        ? BigInt64Array.from(rows, (r) => c.get(r) as bigint)
        : c.type === 'INT32'
          ? Int32Array.from(rows, (r) => c.get(r) as number)
          : c.raw || c.plain
            ? utf8Column(strings())
            : strings();
    const source: ColumnSource = {
      name: c.name,
      data,
      type: c.type,
      nullable: false,
      statistics: c.stats === true,
    };
    if (c.raw) return { ...source, encoding: 'PLAIN', codec: 'UNCOMPRESSED' };
    return c.plain ? { ...source, encoding: 'PLAIN' } : source;
  });
  const out = parquetWriteBuffer({
    columnData,
    codec: PARQUET_CODEC,
    compressors: { ZSTD: zstd },
    statistics: false,
    rowGroupSize: 100_000,
    createdBy: 'ledgerhub export',
    kvMetadata: [{ key: 'ocsf.class_uid', value: String(OCSF_CLASS_UID) }],
  });
  return Buffer.from(out);
}

const orNull = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** Reads an OCSF Parquet export back into rows; throws ExportFormatError on a damaged object. */
export async function decodeOcsfParquet(bytes: Buffer): Promise<ExportRow[]> {
  let objects: Record<string, unknown>[];
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    objects = (await parquetReadObjects({ file, compressors: { ZSTD: unzstd } })) as Record<
      string,
      unknown
    >[];
  } catch (err) {
    throw new ExportFormatError(`parquet: ${(err as Error).message}`);
  }
  return objects.map((o, i) => {
    const occurred = parseOccurredAt(String(o.occurred_at ?? ''));
    if (!occurred) throw new ExportFormatError(`row ${i + 1}: occurred_at is not an RFC 3339 instant`);
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
