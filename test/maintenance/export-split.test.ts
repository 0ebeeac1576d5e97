// Cutting an export batch's COPY text into units and encoding them on threads, pure: every row lands
// in the unit its ledger_seq belongs to, however the chunks fall; units without rows still come out;
// damaged COPY text is refused with a clear error; threads and the main thread encode the same bytes.
import { describe, expect, it } from 'vitest';
import { type EncodedUnit, encodeUnit } from '../../ledger/export-encode.ts';
import { ExportEncoders, ownedArrayBuffer } from '../../ledger/export-encoders.ts';
import { CopyUnitSplitter } from '../../ledger/export-split.ts';

/** A COPY text line with 19 filler fields and ledger_seq last, as EXPORT_COPY_COLUMNS prints. */
const line = (seq: number, filler = 'x') =>
  `${Array.from({ length: 19 }, () => filler).join('\t')}\t${seq}\n`;

function split(text: string, lastSeqs: number[], chunkSize: number): string[] {
  const out: string[] = [];
  const splitter = new CopyUnitSplitter(
    lastSeqs.map((lastSeq) => ({ lastSeq })),
    (i, buf) => {
      expect(i).toBe(out.length);
      // a buffer that owns its memory can be transferred to a thread
      expect(buf.byteOffset).toBe(0);
      expect(buf.buffer.byteLength).toBe(buf.length);
      out.push(buf.toString('utf8'));
    },
  );
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += chunkSize) splitter.push(bytes.subarray(at, at + chunkSize));
  splitter.end();
  return out;
}

describe('CopyUnitSplitter', () => {
  const seqs = [1, 2, 3, 5, 6, 9, 10];
  const text = seqs.map((s) => line(s, 'é\\t')).join('');
  const expected = [
    line(1, 'é\\t') + line(2, 'é\\t'),
    line(3, 'é\\t'),
    '',
    line(5, 'é\\t') + line(6, 'é\\t'),
    line(9, 'é\\t') + line(10, 'é\\t'),
    '',
  ];
  const units = [2, 3, 4, 6, 10, 12];

  it('gives each unit exactly its rows, in order, whatever the chunk size', () => {
    for (const size of [1, 2, 7, 31, 64, 1000, text.length])
      expect(split(text, units, size)).toEqual(expected);
  });

  it('hands out every unit, empty ones included, when the COPY returns no rows', () => {
    expect(split('', [5, 9], 16)).toEqual(['', '']);
  });

  it('refuses a row beyond the last unit', () => {
    expect(() => split(line(1) + line(7), [5], 64)).toThrow(/beyond the last export unit/);
  });

  it('refuses COPY text that ends inside a row', () => {
    expect(() => split(`${line(1)}x\tx`, [5], 64)).toThrow(/ended inside a row/);
  });

  it('refuses a row whose last field is not a ledger_seq', () => {
    expect(() => split('a\tb\t12x\n', [5], 64)).toThrow(/unexpected ledger_seq text/);
    expect(() => split('a\tb\t\n', [5], 64)).toThrow(/without a ledger_seq/);
    expect(() => split('12\n', [5], 64)).toThrow(/without a ledger_seq/);
  });
});

/** One realistic unit's COPY text: the fields as Postgres prints them for EXPORT_COPY_COLUMNS. */
function copyText(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    lines.push(
      [
        `evt-${i}`,
        `zone-${i % 3}`,
        'authorization_decision',
        i % 5 === 0 ? '\\N' : `req-${i}`,
        i % 4 === 0 ? 'deny' : 'allow',
        'ps-1',
        'psv-1',
        'sha-1',
        'ok',
        '[{"policy": "p", "weight": 1.5}]',
        '\\N',
        `{"note": "tab\\\\t and quote \\" é ${i}"}`,
        `2026-11-27 10:00:${String(i % 60).padStart(2, '0')}.123456+00`,
        'a'.repeat(64),
        i === 1 ? '\\N' : 'b'.repeat(64),
        'c'.repeat(64),
        String(i),
        `2026-11-27 10:01:${String(i % 60).padStart(2, '0')}+00`,
        'sig',
        String(100 + i),
      ].join('\t'),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Any ledger_seq (copyText's rows have 101..100+n). */
const all = { afterSeq: 0, lastSeq: Number.MAX_SAFE_INTEGER };
const settings = { formats: ['ndjson', 'parquet'] as ('ndjson' | 'parquet')[], gzipLevel: 4 };
const comparable = (u: EncodedUnit) => ({
  ...u,
  objects: u.objects.map((o) => ({ ...o, body: o.body.toString('base64') })),
});

describe('ExportEncoders', () => {
  it('encodes on threads exactly what the main thread encodes', async () => {
    const inline = encodeUnit(copyText(300), all, settings);
    expect(inline.events).toBe(300);
    expect(inline.zones.map((z) => z.zone_id)).toEqual(['zone-0', 'zone-1', 'zone-2']);
    const encoders = new ExportEncoders(2);
    try {
      const onThreads = await Promise.all([1, 2, 3].map(() => encoders.encode(copyText(300), all, settings)));
      for (const u of onThreads) expect(comparable(u)).toEqual(comparable(inline));
    } finally {
      await encoders.close();
    }
  });

  it('fails a unit whose COPY text cannot be parsed, names why, and keeps encoding the next', async () => {
    const encoders = new ExportEncoders(1);
    try {
      const bad = Buffer.from('evt\tzone\ttype\n');
      await expect(encoders.encode(bad, all, settings)).rejects.toThrow(/export encoding: /);
      await expect(encoders.encode(copyText(3), all, settings)).resolves.toMatchObject({ events: 3 });
    } finally {
      await encoders.close();
    }
  });

  it('fails a unit holding a row outside its ledger_seq range, naming the event', async () => {
    const encoders = new ExportEncoders(1);
    try {
      await expect(encoders.encode(copyText(5), { afterSeq: 100, lastSeq: 104 }, settings)).rejects.toThrow(
        /event evt-5 has ledger_seq 105, outside its unit's \(100, 104\]/,
      );
      await expect(encoders.encode(copyText(5), { afterSeq: 101, lastSeq: 105 }, settings)).rejects.toThrow(
        /event evt-1 has ledger_seq 101/,
      );
    } finally {
      await encoders.close();
    }
  });

  it('copies a pooled or partial buffer before transferring it, leaving the original usable', async () => {
    const pooled = Buffer.from('abc');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const owned = ownedArrayBuffer(pooled);
    expect(owned).not.toBe(pooled.buffer);
    expect(Buffer.from(owned).toString()).toBe('abc');
    const whole = Buffer.allocUnsafeSlow(4);
    expect(ownedArrayBuffer(whole)).toBe(whole.buffer);
    // a partial view of unit text is copied, and the encoding still sees exactly its bytes
    const text = copyText(4);
    const view = Buffer.concat([text, Buffer.from('tail')]).subarray(0, text.length);
    const encoders = new ExportEncoders(1);
    try {
      await expect(encoders.encode(view, all, settings)).resolves.toMatchObject({ events: 4 });
      expect(view.toString()).toBe(text.toString());
    } finally {
      await encoders.close();
    }
  });

  it('refuses work after close', async () => {
    const encoders = new ExportEncoders(1);
    await encoders.close();
    await expect(encoders.encode(copyText(1), all, settings)).rejects.toThrow(/closed/);
  });

  it('encodes on the calling thread when given no threads', async () => {
    const encoders = new ExportEncoders(0);
    await expect(encoders.encode(copyText(2), all, settings)).resolves.toMatchObject({ events: 2 });
    await encoders.close();
  });
});

describe('an encoding thread out of memory', () => {
  it('fails the unit with an error that says which setting to lower, and every later unit', async () => {
    const encoders = new ExportEncoders(1, { oldSpaceMb: 16 });
    try {
      const big = copyText(40_000);
      await expect(encoders.encode(big, all, settings)).rejects.toThrow(
        /ran out of memory \(a thread.s heap is 16 MB\) on a unit of up to \d+\.\d MB of COPY text: raise AUDIT_EXPORT_THREAD_HEAP_MB/,
      );
      await expect(encoders.encode(copyText(1), all, settings)).rejects.toThrow(/ran out of memory/);
    } finally {
      await encoders.close();
    }
  });
});
