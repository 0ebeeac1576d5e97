// Renders JSON exactly as Postgres prints a jsonb value (`$1::jsonb::text`), so chain hashes computed here
// match hashes recomputed from stored rows: keys ordered by UTF-8 length then bytes, last duplicate wins,
// ", " and ": " separators, and numbers in Postgres numeric form (1.50 stays 1.50, 1e2 becomes 100).

/** A JSON number whose source text must be kept (fractions, exponents, integers beyond 2^53). */
export class JsonNumberText {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

/**
 * Parses JSON text. Numbers whose JavaScript value would not print as Postgres prints them keep their
 * source text as JsonNumberText; everything else is a plain JSON value. The common case (no such
 * numbers) costs one native JSON.parse plus a scan.
 */
export function parseJsonPreservingNumbers(text: string): unknown {
  if (!MAYBE_INEXACT_NUMBER.test(text) || !hasInexactNumber(text)) return JSON.parse(text);
  return JSON.parse(text, function revive(_key, value, context?: { source?: string }) {
    if (typeof value === 'number' && context?.source !== undefined && !isExactInteger(context.source)) {
      return new JsonNumberText(context.source);
    }
    return value;
  });
}

/**
 * A cheap native pre-check: every number token starts the text, or follows ',' or '[', or follows the
 * ':' after a key's closing quote, so a number with a fraction, an exponent or 16+ digits must match
 * this. Text inside strings rarely does (a time such as "12:08:59.99" has a digit before its ':'); when
 * it does, the exact scan below decides.
 */
const MAYBE_INEXACT_NUMBER = /(?:^|"\s*:|[,[])\s*-?\d+(?:[.eE]|\d{15})/;

function isExactInteger(source: string): boolean {
  return /^-?(0|[1-9][0-9]{0,14})$/.test(source);
}

/** Outside strings, only number tokens have a digit next to '.', 'e' or 'E' (true/false have no digits). */
const INEXACT_TOKEN = /\d[.eE]|\d{16}/;

/**
 * True when a number token outside strings has a fraction, an exponent or more than 15 digits.
 * Strings are skipped with indexOf, so the cost is per string, not per character.
 */
function hasInexactNumber(text: string): boolean {
  let i = 0;
  for (;;) {
    const open = text.indexOf('"', i);
    const outside = open === -1 ? text.slice(i) : text.slice(i, open);
    if (INEXACT_TOKEN.test(outside)) return true;
    if (open === -1) return false;
    // find the closing quote: one not preceded by an odd number of backslashes
    let close = text.indexOf('"', open + 1);
    for (;;) {
      if (close === -1) return false; // malformed; JSON.parse reports it
      let slashes = 0;
      for (let j = close - 1; text.charCodeAt(j) === 0x5c; j--) slashes++;
      if (slashes % 2 === 0) break;
      close = text.indexOf('"', close + 1);
    }
    i = close + 1;
  }
}

/** Postgres numeric_in refuses exponents beyond this (NUMERIC_MAX_PRECISION). */
export const MAX_NUMERIC_EXPONENT = 1000;

/** Postgres numeric_out of a JSON number's source text (numeric_in keeps the decimal scale). */
export function canonicalNumber(source: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(source);
  if (!m) throw new Error(`not a JSON number: ${source}`);
  const [, sign, intPart = '', fracPart = '', expPart] = m;
  const exponent = expPart === undefined ? 0 : Number.parseInt(expPart, 10);
  if (Math.abs(exponent) > MAX_NUMERIC_EXPONENT)
    throw new RangeError(`number out of range: ${source.slice(0, 40)}`);
  const scale = Math.max(0, fracPart.length - exponent);
  let digits = (intPart + fracPart).replace(/^0+/, '');
  // value = digits * 10^(exponent - fracPart.length); print with `scale` fractional digits
  const shift = exponent - fracPart.length + scale;
  if (digits === '') digits = '0';
  else digits = digits + '0'.repeat(shift);
  let whole: string;
  let frac: string;
  if (scale === 0) {
    whole = digits;
    frac = '';
  } else {
    const padded = digits.padStart(scale + 1, '0');
    whole = padded.slice(0, padded.length - scale);
    frac = padded.slice(padded.length - scale);
  }
  whole = whole.replace(/^0+(?=\d)/, '');
  const isZero = /^0*$/.test(whole) && /^0*$/.test(frac);
  return (sign === '-' && !isZero ? '-' : '') + whole + (scale > 0 ? `.${frac}` : '');
}

function utf8Length(s: string): number {
  // ASCII fast path: every code unit below 0x80 is one byte
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

interface SortKey {
  key: string;
  out: string;
  bytes: number;
  ascii: boolean;
}

/** jsonb's key order: shorter UTF-8 first, then bytewise. */
function compareKeys(a: SortKey, b: SortKey): number {
  if (a.bytes !== b.bytes) return a.bytes - b.bytes;
  if (a.ascii && b.ascii) return a.out < b.out ? -1 : a.out > b.out ? 1 : 0;
  return Buffer.compare(Buffer.from(a.out, 'utf8'), Buffer.from(b.out, 'utf8'));
}

/** Every key ASCII and free of NUL: sanitising changes none and UTF-8 length equals string length. */
function plainKeys(keys: string[]): boolean {
  for (const k of keys) {
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      if (c === 0 || c > 0x7f) return false;
    }
  }
  return true;
}

function compareAsciiKeys(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Removes what Postgres refuses in text and jsonb (NUL) and what cannot be stored as UTF-8 (lone
 * surrogates become U+FFFD, as any UTF-8 encoder would), so the hash covers exactly what is stored.
 */
export function sanitizeText(s: string): string {
  const clean = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
  return clean.isWellFormed() ? clean : clean.toWellFormed();
}

/**
 * The jsonb text form of a parsed JSON value, with every string (keys included) sanitised on the way:
 * what this returns is exactly what Postgres stores and prints back.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(sanitizeText(value));
    case 'number':
      if (!Number.isFinite(value)) throw new Error('non-finite number in JSON');
      return Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER
        ? String(value === 0 ? 0 : value)
        : canonicalNumber(jsNumberSource(value));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value instanceof JsonNumberText) return canonicalNumber(value.source);
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ', ';
          out += canonicalJson(value[i]);
        }
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const raw = Object.keys(obj);
      if (raw.length === 0) return '{}';
      if (plainKeys(raw)) {
        // the common case: ASCII keys without NUL sort by length, then by code unit (= byte)
        raw.sort(compareAsciiKeys);
        let out = '{';
        for (let i = 0; i < raw.length; i++) {
          const k = raw[i]!;
          if (i > 0) out += ', ';
          out += `${JSON.stringify(k)}: ${canonicalJson(obj[k])}`;
        }
        return `${out}}`;
      }
      // sanitising can make two keys equal ("a\u0000" and "a"): the later one wins, as in jsonb
      const byOut = new Map<string, SortKey>();
      for (const key of raw) {
        const out = sanitizeText(key);
        const bytes = utf8Length(out);
        byOut.set(out, { key, out, bytes, ascii: bytes === out.length });
      }
      const keys = [...byOut.values()].sort(compareKeys);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (i > 0) out += ', ';
        out += `${JSON.stringify(k.out)}: ${canonicalJson(obj[k.key])}`;
      }
      return `${out}}`;
    }
    default:
      throw new Error(`not a JSON value: ${typeof value}`);
  }
}

/** A JS number built in code (not parsed) printed as the JSON text a producer would send. */
function jsNumberSource(n: number): string {
  return JSON.stringify(n);
}
