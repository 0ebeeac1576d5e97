// ledgerhub's Parquet writer against two independent readers: hyparquet (what verify-export uses) and
// the Apache Arrow Rust implementation (parquet-wasm), the strict reader behind many query engines.
// Strings of every kind, dictionary runs of every shape, INT64 edges, statistics, row groups, no rows.
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { readParquet } from 'parquet-wasm/node';
import { describe, expect, it } from 'vitest';
import { encodeOcsfParquet, OCSF_COLUMNS, ocsfColumnValues, parquetFile } from '../../ledger/parquet-ocsf.ts';
import { hybridIndices, type ParquetColumn, writeParquet } from '../../ledger/parquet-write.ts';
import { exportRows, TRICKY_EVENT } from './export-rows.ts';

const zstd = { id: 6, compress: (b: Buffer) => zstdCompressSync(b) };
const plainValue = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

/** Rows as hyparquet reads them. */
async function hyparquetRows(file: Buffer): Promise<Record<string, unknown>[]> {
  const rows = (await parquetReadObjects({
    file: parquetFile(file),
    compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
  })) as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plainValue(v)])));
}

/** Rows as arrow-rs reads them. */
function arrowRows(file: Buffer): Record<string, unknown>[] {
  const table = tableFromIPC(readParquet(new Uint8Array(file)).intoIPCStream());
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row = table.get(i)!.toJSON() as Record<string, unknown>;
    out.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plainValue(v)])));
  }
  return out;
}

/** Both readers' rows, which must agree, as column name -> values. */
async function readColumns(file: Buffer): Promise<Record<string, unknown[]>> {
  const a = await hyparquetRows(file);
  const b = arrowRows(file);
  expect(b).toEqual(a);
  const names = a[0] ? Object.keys(a[0]) : [];
  return Object.fromEntries(names.map((n) => [n, a.map((r) => r[n])]));
}

const column = (
  over: Partial<ParquetColumn> & Pick<ParquetColumn, 'name' | 'type' | 'values'>,
): ParquetColumn => ({
  dictionary: true,
  compressed: true,
  statistics: false,
  ...over,
});
const file = (columns: ParquetColumn[], rowGroupRows = 100_000) =>
  writeParquet({
    columns,
    rows: columns[0]!.values.length,
    rowGroupRows,
    codec: zstd,
    createdBy: 'ledgerhub test',
    kvMetadata: [{ key: 'k', value: 'v' }],
  });

describe('Parquet writer', () => {
  it('writes an OCSF export object both readers decode to exactly its column values', async () => {
    const rows = exportRows(60, [TRICKY_EVENT]);
    const columns = await readColumns(encodeOcsfParquet(rows));
    const expected = ocsfColumnValues(rows);
    expect(Object.keys(columns)).toEqual(OCSF_COLUMNS.map((c) => c.name));
    for (const c of OCSF_COLUMNS) {
      expect(columns[c.name], c.name).toEqual(Array.from(expected[c.name]! as ArrayLike<unknown>));
    }
  });

  it('keeps every string exact, dictionary or PLAIN, compressed or not: Unicode, empty, hostile, long', async () => {
    const odd = [
      '',
      'plain',
      'zone-é',
      '日本語',
      '😀x',
      '\u0000\t\n',
      "'; DROP TABLE audit_events; --",
      'x'.repeat(100_000),
      'x\uD83D',
      '\uDE00y',
    ];
    const lowCardinality = Array.from({ length: 200 }, (_, i) => odd[i % odd.length]!);
    const allDistinct = Array.from({ length: 200 }, (_, i) => `${odd[i % odd.length]}#${i}`);
    const columns = await readColumns(
      file([
        column({ name: 'dict', type: 'STRING', values: lowCardinality }),
        column({ name: 'distinct', type: 'STRING', values: allDistinct }),
        column({ name: 'raw', type: 'STRING', values: lowCardinality, dictionary: false, compressed: false }),
      ]),
    );
    expect(columns.dict).toEqual(lowCardinality.map((s) => s.toWellFormed()));
    expect(columns.distinct).toEqual(allDistinct.map((s) => s.toWellFormed()));
    expect(columns.raw).toEqual(lowCardinality.map((s) => s.toWellFormed()));
  });

  it('encodes dictionary indices of every run shape and bit width', async () => {
    const shapes: Record<string, number[]> = {
      constant: Array(1000).fill(7),
      // literals before a run that must lend them values to fill a group of 8
      runAfterLiterals: [1, 2, 3, ...Array(16).fill(4), 5, ...Array(17).fill(6), 7, 8, ...Array(15).fill(9)],
      alternating: Array.from({ length: 333 }, (_, i) => i % 2),
      wide: Array.from({ length: 2000 }, (_, i) => (i * 7) % 600), // 600 entries: 10 bits
      exactPowers: Array.from({ length: 1024 }, (_, i) => i % 256), // 256 entries: 8 bits
    };
    for (const [name, v] of Object.entries(shapes)) {
      const columns = await readColumns(file([column({ name, type: 'INT32', values: Int32Array.from(v) })]));
      expect(columns[name], name).toEqual(v);
    }
  });

  it('writes RLE runs for repeats and bit-packs the rest in whole groups of 8', () => {
    // bit width 1, header (1 << 1) then the value: a single RLE run
    expect([...hybridIndices(Int32Array.from(Array(20).fill(1)), 1)]).toEqual([1, 40, 1]);
    // 3 literals + 16 repeats: the literals borrow 5 of the run (one group of 8), the rest is a run of 11
    const packed = hybridIndices(Int32Array.from([1, 0, 1, ...Array(16).fill(1)]), 1);
    expect([...packed]).toEqual([1, 0b11, 0b1111_1101, 22, 1]);
  });

  it('writes INT64 edges exactly and refuses a value it cannot represent', async () => {
    const edges = [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1)];
    const columns = await readColumns(
      file([column({ name: 'n', type: 'INT64', values: Float64Array.from(edges) })]),
    );
    expect(columns.n).toEqual(edges);
    expect(() => file([column({ name: 'n', type: 'INT64', values: Float64Array.from([2 ** 53]) })])).toThrow(
      /not a safe integer/,
    );
    expect(() => file([column({ name: 'n', type: 'INT64', values: Float64Array.from([1.5]) })])).toThrow(
      /not a safe integer/,
    );
  });

  it('writes min/max statistics in each type order: signed integers, UTF-8 bytes for strings', () => {
    const f = file([
      column({
        name: 'n',
        type: 'INT64',
        statistics: true,
        values: Float64Array.from([5, -(2 ** 40), 3, 2 ** 40, 0]),
      }),
      column({ name: 's', type: 'STRING', statistics: true, values: ['m', 'é', 'z', 'a', 'm'] }),
      column({
        name: 'p',
        type: 'STRING',
        statistics: true,
        dictionary: false,
        values: ['b', 'a', '\uFFFD', 'c', 'd'],
      }),
      column({ name: 'none', type: 'INT32', values: Int32Array.from([1, 2, 3, 4, 5]) }),
    ]);
    const stats = parquetMetadata(parquetFile(f)).row_groups[0]!.columns.map((c) => c.meta_data?.statistics);
    expect(stats[0]).toMatchObject({ min_value: -(2n ** 40n), max_value: 2n ** 40n, null_count: 0n });
    // 'é' is C3 A9 in UTF-8, above 'z' (7A)
    expect(stats[1]).toMatchObject({ min_value: 'a', max_value: 'é' });
    expect(stats[2]).toMatchObject({ min_value: 'a', max_value: '\uFFFD' });
    expect(stats[3]).toBeUndefined();
  });

  it('declares the page encodings of each chunk, so engines know a chunk is entirely dictionary-encoded', () => {
    const f = file([
      column({ name: 'dict', type: 'STRING', values: ['a', 'b', 'a', 'a'] }),
      column({ name: 'plain', type: 'STRING', values: ['a', 'b', 'c', 'd'] }),
    ]);
    const chunks = parquetMetadata(parquetFile(f)).row_groups[0]!.columns.map((c) => c.meta_data);
    expect(chunks.map((m) => m?.encoding_stats)).toEqual([
      [
        { page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 },
        { page_type: 'DATA_PAGE', encoding: 'RLE_DICTIONARY', count: 1 },
      ],
      [{ page_type: 'DATA_PAGE', encoding: 'PLAIN', count: 1 }],
    ]);
    expect(chunks.map((m) => m?.encodings)).toEqual([
      ['PLAIN', 'RLE', 'RLE_DICTIONARY'],
      ['PLAIN', 'RLE'],
    ]);
  });

  it('splits rows into row groups and reads back in order', async () => {
    const values = Array.from({ length: 10 }, (_, i) => i);
    const f = file([column({ name: 'n', type: 'INT32', values: Int32Array.from(values) })], 4);
    expect(parquetMetadata(parquetFile(f)).row_groups.map((g) => g.num_rows)).toEqual([4n, 4n, 2n]);
    expect((await readColumns(f)).n).toEqual(values);
  });

  it('writes a readable file with no rows', async () => {
    const f = file([column({ name: 'n', type: 'INT64', values: new Float64Array(0) })]);
    expect(await hyparquetRows(f)).toEqual([]);
    expect(arrowRows(f)).toEqual([]);
    expect(parquetMetadata(parquetFile(f)).schema.map((s) => s.name)).toEqual(['root', 'n']);
  });

  it('refuses columns of different lengths, and empty row groups', () => {
    expect(() =>
      writeParquet({
        columns: [
          column({ name: 'a', type: 'INT32', values: Int32Array.from([1, 2]) }),
          column({ name: 'b', type: 'INT32', values: Int32Array.from([1]) }),
        ],
        rows: 2,
        rowGroupRows: 10,
        codec: zstd,
        createdBy: 't',
        kvMetadata: [],
      }),
    ).toThrow(/column b has 1 values, not 2/);
    expect(() => file([column({ name: 'a', type: 'INT32', values: Int32Array.from([1]) })], 0)).toThrow(
      /row groups of 0 rows/,
    );
  });
});
