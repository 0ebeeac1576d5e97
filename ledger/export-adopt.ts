// Whether an object found at an export key holds exactly what this run encoded for it: the same text
// once decompressed (NDJSON), the same schema and every column's values (Parquet). An earlier
// version's encoder may have compressed the same content differently before its run was interrupted;
// such an object is kept (adopted), anything else is a conflict. Decompression is bounded by what this
// run's own object needs, so a planted bomb fails the comparison instead of the process.
import { gunzipSync } from 'node:zlib';
import { type FileMetaData, parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { ExportFormatName } from './config/maintenance.ts';
import { parquetFile, unzstd } from './parquet-ocsf.ts';

/** Decompressed Parquet pages allowed beyond this run's own object's total, for other encodings' overhead. */
const PARQUET_SLACK = 4;
const PARQUET_SLACK_BYTES = 16 << 20;

/** The first difference between the content of `existing` and of `ours`, or null when they hold the same. */
export async function contentDifference(
  format: ExportFormatName,
  existing: Buffer,
  ours: Buffer,
): Promise<string | null> {
  return format === 'ndjson' ? ndjsonDifference(existing, ours) : parquetDifference(existing, ours);
}

function ndjsonDifference(existing: Buffer, ours: Buffer): string | null {
  const want = gunzipSync(ours);
  let got: Buffer;
  try {
    got = gunzipSync(existing, { maxOutputLength: want.length + 1 });
  } catch (err) {
    return `it does not decompress to at most ${want.length} bytes (${(err as Error).message})`;
  }
  if (got.equals(want)) return null;
  const n = Math.min(got.length, want.length);
  let at = 0;
  while (at < n && got[at] === want[at]) at++;
  let line = 1;
  for (let i = 0; i < at; i++) if (want[i] === 0x0a) line++;
  return `line ${line} differs`;
}

function leaves(meta: FileMetaData): string[] {
  return meta.schema
    .slice(1)
    .map((e) => `${e.name}:${e.type}:${e.repetition_type}:${e.converted_type ?? ''}:${e.num_children ?? 0}`);
}

async function parquetDifference(existing: Buffer, ours: Buffer): Promise<string | null> {
  const oursFile = parquetFile(ours);
  const oursMeta = parquetMetadata(oursFile);
  let file: ArrayBuffer;
  let meta: FileMetaData;
  try {
    file = parquetFile(existing);
    meta = parquetMetadata(file);
  } catch (err) {
    return `it is not a readable Parquet file (${(err as Error).message})`;
  }
  if (meta.num_rows !== oursMeta.num_rows) return `it holds ${meta.num_rows} rows, not ${oursMeta.num_rows}`;
  const [want, got] = [leaves(oursMeta), leaves(meta)];
  if (want.join() !== got.join()) return `its columns are ${got.join(', ')}, not ${want.join(', ')}`;

  let budget =
    PARQUET_SLACK *
      oursMeta.row_groups.reduce(
        (a, g) => a + g.columns.reduce((b, c) => b + Number(c.meta_data?.total_uncompressed_size ?? 0), 0),
        0,
      ) +
    PARQUET_SLACK_BYTES;
  const boundedZstd = (bytes: Uint8Array, outputLength: number) => {
    if (outputLength > budget) throw new Error('decompressed pages exceed what the content needs');
    const out = unzstd(bytes, outputLength);
    budget -= out.length;
    return out;
  };
  for (const name of oursMeta.schema.slice(1).map((e) => e.name)) {
    let theirs: Record<string, unknown>[];
    try {
      theirs = (await parquetReadObjects({
        file,
        metadata: meta,
        columns: [name],
        compressors: { ZSTD: boundedZstd },
      })) as Record<string, unknown>[];
    } catch (err) {
      return `column ${name} cannot be read (${(err as Error).message})`;
    }
    const mine = (await parquetReadObjects({
      file: oursFile,
      metadata: oursMeta,
      columns: [name],
      compressors: { ZSTD: unzstd },
    })) as Record<string, unknown>[];
    for (let i = 0; i < mine.length; i++) {
      if (theirs[i]?.[name] !== mine[i]![name]) return `column ${name} differs at row ${i + 1}`;
    }
  }
  return null;
}
