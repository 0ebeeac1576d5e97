import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, canonicalNumber, parseJsonPreservingNumbers } from '../../ledger/canonical-json.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-services.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

async function postgresForm(texts: string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ t: string }>(
    'SELECT x::jsonb::text AS t FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n',
    [texts],
  );
  return rows.map((r) => r.t);
}

function ours(text: string): string {
  return canonicalJson(parseJsonPreservingNumbers(text));
}

// a small deterministic generator, so a failure reproduces
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NUMBER_TEXTS = [
  '0',
  '-0',
  '1',
  '-17',
  '1.0',
  '1.50',
  '0.000',
  '-0.0',
  '1e2',
  '1E-3',
  '2.5e+3',
  '12e-1',
  '123456789012345678901234567890',
  '9007199254740993',
  '0.1',
  '-1.25e-7',
  '1e20',
  '3.14159265358979323846',
];
const STRINGS = [
  '',
  'plain',
  'quote " and \\ backslash',
  'tab\tnew\nline\r',
  'ctl \u0001\u001f',
  'del \u007f',
  'é ü 日本 😀',
  '\u2028\u2029',
  '/slash/',
  '<script>alert(1)</script>',
  "'; DROP TABLE audit_events; --",
];
const KEYS = [
  'a',
  'b',
  'aa',
  'ab',
  'ba',
  'zz',
  'é',
  'ü',
  '日',
  'key with space',
  'Z',
  'a1',
  '',
  '😀',
  'ab\u0000',
];

function genValue(r: () => number, depth: number): string {
  const k = r();
  if (depth > 3 || k < 0.35) {
    const p = r();
    if (p < 0.3) return NUMBER_TEXTS[Math.floor(r() * NUMBER_TEXTS.length)]!;
    if (p < 0.7) return JSON.stringify(STRINGS[Math.floor(r() * STRINGS.length)]);
    if (p < 0.8) return 'true';
    if (p < 0.9) return 'false';
    return 'null';
  }
  if (k < 0.6) {
    const n = Math.floor(r() * 4);
    return `[${Array.from({ length: n }, () => genValue(r, depth + 1)).join(',')}]`;
  }
  const n = Math.floor(r() * 5);
  // duplicate keys are legal JSON text; the last one wins in both JSON.parse and jsonb
  const entries = Array.from(
    { length: n },
    () => `${JSON.stringify(KEYS[Math.floor(r() * KEYS.length)])}:${genValue(r, depth + 1)}`,
  );
  return `{${entries.join(', ')}}`;
}

describe('canonical JSON', () => {
  it('prints numbers as Postgres numeric does', async () => {
    const pgForms = await postgresForm(NUMBER_TEXTS);
    expect(NUMBER_TEXTS.map(canonicalNumber)).toEqual(pgForms);
  });

  it('matches jsonb::text for 2,000 generated documents', async () => {
    const r = rng(20261127);
    const docs = Array.from({ length: 2000 }, () => genValue(r, 0)).filter((d) => !d.includes('\\u0000'));
    const pgForms = await postgresForm(docs);
    const mismatches = docs
      .map((d, i) => ({ d, ours: ours(d), pg: pgForms[i] }))
      .filter((m) => m.ours !== m.pg);
    expect(docs.length).toBeGreaterThan(1000);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('keeps inexact numbers wherever JSON allows whitespace, next to strings that look like numbers', async () => {
    const docs = [
      '{"at": "2026-11-27T12:08:59.990Z", "n" : 1.50}',
      '{"at":"12:08:59.99","n":\t\n 1e2}',
      '{"k\\"": 12345678901234567890, "t": "x:1.5"}',
      '[1.50 ,  2.250, {"a"\r\n:\r\n0.10}]',
      '  1.10  ',
      '{"s": "a,1.5 [2.5 \\": 3.5"}',
    ];
    expect(docs.map(ours)).toEqual(await postgresForm(docs));
  });

  it('stores exactly the text it hashed, NUL characters included in the input', async () => {
    const r = rng(7);
    const docs = Array.from({ length: 1000 }, () => genValue(r, 0)).map(ours);
    expect(await postgresForm(docs)).toEqual(docs);
  });

  it('orders keys by UTF-8 length, then bytes', () => {
    expect(canonicalJson({ bb: 1, a: 2, é: 3, c: 4 })).toBe('{"a": 2, "c": 4, "bb": 1, "é": 3}');
  });

  it('refuses exponents Postgres refuses instead of allocating huge strings', () => {
    expect(() => canonicalNumber('1e999999999')).toThrow(/out of range/);
  });

  it('turns lone surrogates into U+FFFD and drops NUL, as storage would', () => {
    expect(ours('{"k\\u0000": "a\\ud800b\\u0000"}')).toBe('{"k": "a\ufffdb"}');
  });
});
