// Parquet files for flat tables of required INT32, INT64 and UTF-8 string columns, written in one pass
// per column straight from arrays of values: PLAIN or dictionary pages (version 1), Zstandard or no
// compression, min/max statistics. The general-purpose writer it replaces spent half the export's
// encoding time building an object per value and re-copying growing buffers.
import { compactStruct, pushVarint, type ThriftStruct } from './thrift-compact.ts';

export interface ParquetColumn {
  name: string;
  type: 'INT32' | 'INT64' | 'STRING';
  /** INT32: Int32Array; INT64: safe integers in a Float64Array; STRING: strings (written as UTF-8). */
  values: Int32Array | Float64Array | readonly string[];
  /** Dictionary-encode when at most half the values are distinct (else PLAIN); INT64 is always PLAIN. */
  dictionary: boolean;
  /** Compress pages with `compress` (the file's codec) or store them as they are. */
  compressed: boolean;
  /** Write min/max statistics in the column chunk's metadata. */
  statistics: boolean;
}

export interface ParquetFile {
  columns: ParquetColumn[];
  rows: number;
  rowGroupRows: number;
  /** The codec's Thrift enum value (ZSTD is 6) and its compressor. */
  codec: { id: number; compress: (page: Buffer) => Buffer };
  createdBy: string;
  kvMetadata: { key: string; value: string }[];
}

/** Thrift enum values from parquet.thrift. */
const TYPE = { INT32: 1, INT64: 2, BYTE_ARRAY: 6 } as const;
const ENCODING = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PAGE = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;
const REQUIRED = 0;
const CONVERTED_UTF8 = 0;
const UNCOMPRESSED = 0;
const MAGIC = Buffer.from('PAR1', 'latin1');

type Values = ParquetColumn['values'];

/** The PLAIN encoding of values [from, to). */
function plain(type: ParquetColumn['type'], values: Values, from: number, to: number): Buffer {
  const n = to - from;
  if (type === 'INT32') {
    const out = Buffer.allocUnsafe(n * 4);
    for (let i = 0; i < n; i++) out.writeInt32LE((values as Int32Array)[from + i]!, i * 4);
    return out;
  }
  if (type === 'INT64') {
    const out = Buffer.allocUnsafe(n * 8);
    for (let i = 0; i < n; i++) writeInt64(out, (values as Float64Array)[from + i]!, i * 8);
    return out;
  }
  const strings = values as readonly string[];
  let bound = 0;
  for (let i = from; i < to; i++) bound += 4 + strings[i]!.length * 3; // UTF-8 is at most 3 bytes per UTF-16 unit
  const out = Buffer.allocUnsafeSlow(bound);
  let at = 0;
  for (let i = from; i < to; i++) {
    const written = out.write(strings[i]!, at + 4, 'utf8');
    out.writeUInt32LE(written, at);
    at += 4 + written;
  }
  return out.subarray(0, at);
}

/** A safe integer as a little-endian two's-complement int64, without a BigInt per value. */
function writeInt64(out: Buffer, v: number, at: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`parquet INT64 value ${v} is not a safe integer`);
  const hi = Math.floor(v / 0x1_0000_0000);
  out.writeUInt32LE(v - hi * 0x1_0000_0000, at);
  out.writeInt32LE(hi, at + 4);
}

interface Dictionary {
  /** Distinct values in order of first appearance. */
  entries: (number | string)[];
  indices: Int32Array;
}

/** Values [from, to) as a dictionary and indices, or null when more than half of them are distinct. */
function dictionaryOf(values: Values, from: number, to: number): Dictionary | null {
  const n = to - from;
  const limit = Math.max(1, n >> 1);
  const index = new Map<number | string, number>();
  const entries: (number | string)[] = [];
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[from + i]!;
    let k = index.get(v);
    if (k === undefined) {
      if (entries.length === limit) return null;
      k = entries.length;
      entries.push(v);
      index.set(v, k);
    }
    indices[i] = k;
  }
  return { entries, indices };
}

/**
 * Dictionary indices in the RLE / bit-packing hybrid: a repeated run of 16 or more becomes an RLE run,
 * everything else bit-packed runs of whole groups of 8 (the last group padded with zeros, which the
 * page's value count tells readers to ignore). Prefixed with the bit width, as data pages carry it.
 */
export function hybridIndices(indices: Int32Array, bitWidth: number): Buffer {
  const out: number[] = [bitWidth];
  const valueBytes = Math.ceil(bitWidth / 8);
  const bitPacked = (from: number, count: number) => {
    const groups = Math.ceil(count / 8);
    pushVarint(out, groups * 2 + 1);
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < groups * 8; i++) {
      acc += (i < count ? indices[from + i]! : 0) * 2 ** bits;
      bits += bitWidth;
      while (bits >= 8) {
        out.push(acc % 256);
        acc = Math.floor(acc / 256);
        bits -= 8;
      }
    }
  };
  const n = indices.length;
  let literalsFrom = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && indices[j] === indices[i]) j++;
    if (j - i >= 16) {
      // the literals before the run must fill whole groups of 8: the run lends them up to 7 values
      const start = i + ((8 - ((i - literalsFrom) % 8)) % 8);
      if (start > literalsFrom) bitPacked(literalsFrom, start - literalsFrom);
      pushVarint(out, (j - start) * 2);
      let v = indices[i]!;
      for (let b = 0; b < valueBytes; b++) {
        out.push(v % 256);
        v = Math.floor(v / 256);
      }
      literalsFrom = j;
    }
    i = j;
  }
  if (n > literalsFrom) bitPacked(literalsFrom, n - literalsFrom);
  return Buffer.from(out);
}

/** Bits for indices 0 .. entries - 1 (at least 1). */
const bitWidthFor = (entries: number) => Math.max(1, 32 - Math.clz32(entries - 1));

interface Statistics {
  min: Buffer;
  max: Buffer;
}

/** Min and max as Parquet orders them: signed for integers, unsigned bytewise for UTF-8. */
function statisticsOf(type: ParquetColumn['type'], distinct: ArrayLike<number | string>): Statistics | null {
  if (distinct.length === 0) return null;
  if (type === 'STRING') {
    const encoded = Array.from(distinct, (v) => Buffer.from(v as string, 'utf8'));
    let min = encoded[0]!;
    let max = min;
    for (const b of encoded) {
      if (Buffer.compare(b, min) < 0) min = b;
      if (Buffer.compare(b, max) > 0) max = b;
    }
    return { min, max };
  }
  let min = distinct[0] as number;
  let max = min;
  for (let i = 1; i < distinct.length; i++) {
    const v = distinct[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const bytes = (v: number) => {
    if (type === 'INT32') {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32LE(v);
      return b;
    }
    const b = Buffer.allocUnsafe(8);
    writeInt64(b, v, 0);
    return b;
  };
  return { min: bytes(min), max: bytes(max) };
}

const I32_MAX = 0x7fff_ffff;

function pageHeader(
  kind: 'data' | 'dictionary',
  raw: number,
  stored: number,
  values: number,
  encoding: number,
) {
  if (raw > I32_MAX || stored > I32_MAX) throw new RangeError(`parquet page of ${raw} bytes exceeds 2 GiB`);
  const header: ThriftStruct = [
    [1, 'i32', kind === 'data' ? PAGE.DATA_PAGE : PAGE.DICTIONARY_PAGE],
    [2, 'i32', raw],
    [3, 'i32', stored],
  ];
  if (kind === 'data') {
    header.push([
      5,
      'struct',
      [
        [1, 'i32', values],
        [2, 'i32', encoding],
        [3, 'i32', ENCODING.RLE],
        [4, 'i32', ENCODING.RLE],
      ],
    ]);
  } else {
    header.push([
      7,
      'struct',
      [
        [1, 'i32', values],
        [2, 'i32', ENCODING.PLAIN],
      ],
    ]);
  }
  return compactStruct(header);
}

/** Assembles the file: pages appended in order, then the footer. */
class FileBuilder {
  readonly parts: Buffer[] = [MAGIC];
  offset = MAGIC.length;

  append(b: Buffer): number {
    const at = this.offset;
    this.parts.push(b);
    this.offset += b.length;
    return at;
  }
}

/** Writes a page (header, then the body, compressed or not); returns its offset and sizes. */
function writePage(
  file: FileBuilder,
  col: ParquetColumn,
  codec: ParquetFile['codec'],
  kind: 'data' | 'dictionary',
  body: Buffer,
  values: number,
  encoding: number,
) {
  const stored = col.compressed ? codec.compress(body) : body;
  const header = pageHeader(kind, body.length, stored.length, values, encoding);
  const offset = file.append(header);
  file.append(stored);
  return { offset, raw: header.length + body.length, stored: header.length + stored.length };
}

/** PageEncodingStats of a chunk's one page of that type. */
const pageStats = (pageType: number, encoding: number): ThriftStruct => [
  [1, 'i32', pageType],
  [2, 'i32', encoding],
  [3, 'i32', 1],
];

/** One column chunk of rows [from, to): its pages, and its ColumnChunk metadata. */
function writeChunk(
  file: FileBuilder,
  col: ParquetColumn,
  codec: ParquetFile['codec'],
  from: number,
  to: number,
) {
  const dict = col.dictionary && col.type !== 'INT64' ? dictionaryOf(col.values, from, to) : null;
  let dictionaryOffset: number | undefined;
  let raw = 0;
  let stored = 0;
  let distinct: ArrayLike<number | string>;
  let dataOffset: number;
  if (dict) {
    const page = writePage(
      file,
      col,
      codec,
      'dictionary',
      plain(
        col.type,
        col.type === 'INT32' ? Int32Array.from(dict.entries as number[]) : (dict.entries as string[]),
        0,
        dict.entries.length,
      ),
      dict.entries.length,
      ENCODING.PLAIN,
    );
    dictionaryOffset = page.offset;
    const data = writePage(
      file,
      col,
      codec,
      'data',
      hybridIndices(dict.indices, bitWidthFor(dict.entries.length)),
      to - from,
      ENCODING.RLE_DICTIONARY,
    );
    dataOffset = data.offset;
    raw = page.raw + data.raw;
    stored = page.stored + data.stored;
    distinct = dict.entries;
  } else {
    const data = writePage(
      file,
      col,
      codec,
      'data',
      plain(col.type, col.values, from, to),
      to - from,
      ENCODING.PLAIN,
    );
    dataOffset = data.offset;
    raw = data.raw;
    stored = data.stored;
    distinct = col.statistics ? col.values.slice(from, to) : [];
  }
  const stats = col.statistics ? statisticsOf(col.type, distinct) : null;
  const meta: ThriftStruct = [
    [1, 'i32', col.type === 'STRING' ? TYPE.BYTE_ARRAY : TYPE[col.type]],
    [
      2,
      'list',
      {
        i32: dict ? [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY] : [ENCODING.PLAIN, ENCODING.RLE],
      },
    ],
    [3, 'list', { binary: [col.name] }],
    [4, 'i32', col.compressed ? codec.id : UNCOMPRESSED],
    [5, 'i64', to - from],
    [6, 'i64', raw],
    [7, 'i64', stored],
    [9, 'i64', dataOffset],
    [11, 'i64', dictionaryOffset],
    [
      12,
      'struct',
      stats
        ? [
            [3, 'i64', 0],
            [5, 'binary', stats.max],
            [6, 'binary', stats.min],
          ]
        : undefined,
    ],
    // which pages use which encoding: engines only prune on a dictionary when every data page uses it
    [
      13,
      'list',
      {
        struct: dict
          ? [
              pageStats(PAGE.DICTIONARY_PAGE, ENCODING.PLAIN),
              pageStats(PAGE.DATA_PAGE, ENCODING.RLE_DICTIONARY),
            ]
          : [pageStats(PAGE.DATA_PAGE, ENCODING.PLAIN)],
      },
    ],
  ];
  const start = dictionaryOffset ?? dataOffset;
  return {
    start,
    raw,
    stored,
    chunk: [
      [2, 'i64', start],
      [3, 'struct', meta],
    ] as ThriftStruct,
  };
}

/** The whole file: row groups of up to rowGroupRows, one page per column chunk (two with a dictionary). */
export function writeParquet(f: ParquetFile): Buffer {
  if (!(Number.isSafeInteger(f.rowGroupRows) && f.rowGroupRows > 0)) {
    throw new RangeError(`parquet row groups of ${f.rowGroupRows} rows`);
  }
  for (const c of f.columns) {
    if (c.values.length !== f.rows)
      throw new Error(`parquet column ${c.name} has ${c.values.length} values, not ${f.rows}`);
  }
  const file = new FileBuilder();
  const rowGroups: ThriftStruct[] = [];
  // no rows, no row group: the footer alone describes an empty table
  for (let from = 0; from < f.rows; from += f.rowGroupRows) {
    const to = Math.min(f.rows, from + f.rowGroupRows);
    const chunks = f.columns.map((c) => writeChunk(file, c, f.codec, from, to));
    rowGroups.push([
      [1, 'list', { struct: chunks.map((c) => c.chunk) }],
      [2, 'i64', chunks.reduce((a, c) => a + c.raw, 0)],
      [3, 'i64', to - from],
      [5, 'i64', chunks[0]?.start],
      [6, 'i64', chunks.reduce((a, c) => a + c.stored, 0)],
    ]);
  }
  const schema: ThriftStruct[] = [
    [
      [4, 'binary', 'root'],
      [5, 'i32', f.columns.length],
    ],
    ...f.columns.map(
      (c): ThriftStruct => [
        [1, 'i32', c.type === 'STRING' ? TYPE.BYTE_ARRAY : TYPE[c.type]],
        [3, 'i32', REQUIRED],
        [4, 'binary', c.name],
        [6, 'i32', c.type === 'STRING' ? CONVERTED_UTF8 : undefined],
        [10, 'struct', c.type === 'STRING' ? [[1, 'struct', []]] : undefined],
      ],
    ),
  ];
  const footer = compactStruct([
    [1, 'i32', 2],
    [2, 'list', { struct: schema }],
    [3, 'i64', f.rows],
    [4, 'list', { struct: rowGroups }],
    [
      5,
      'list',
      {
        struct: f.kvMetadata.map(
          (kv): ThriftStruct => [
            [1, 'binary', kv.key],
            [2, 'binary', kv.value],
          ],
        ),
      },
    ],
    [6, 'binary', f.createdBy],
    // TypeDefinedOrder for every column: min/max above follow the types' own orders
    [7, 'list', { struct: f.columns.map((): ThriftStruct => [[1, 'struct', []]]) }],
  ]);
  file.append(footer);
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32LE(footer.length);
  file.append(length);
  file.append(MAGIC);
  return Buffer.concat(file.parts, file.offset);
}
