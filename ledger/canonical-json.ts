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
  if (!hasInexactNumber(text)) return JSON.parse(text);
  return JSON.parse(text, function revive(_key, value, context?: { source?: string }) {
    if (typeof value === 'number' && context?.source !== undefined && !isExactInteger(context.source)) {
      return new JsonNumberText(context.source);
    }
    return value;
  });
}

function isExactInteger(source: string): boolean {
  return /^-?(0|[1-9][0-9]{0,14})$/.test(source);
}

/** True when a number token outside strings has a fraction, an exponent or more than 15 digits. */
function hasInexactNumber(text: string): boolean {
  let inString = false;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 15) return true;
    } else {
      if (digits > 0 && (c === 0x2e || c === 0x65 || c === 0x45)) return true;
      digits = 0;
    }
  }
  return false;
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

const textEncoder = new TextEncoder();

function utf8Length(s: string): number {
  // ASCII fast path: every code unit below 0x80 is one byte
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return textEncoder.encode(s).length;
  }
  return s.length;
}

function compareKeys(a: string, b: string): number {
  const la = utf8Length(a);
  const lb = utf8Length(b);
  if (la !== lb) return la - lb;
  if (la === a.length && lb === b.length) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Removes what Postgres refuses in text and jsonb (NUL) and what cannot be stored as UTF-8 (lone
 * surrogates become U+FFFD, as any UTF-8 encoder would), so the hash covers exactly what is stored.
 */
export function sanitizeText(s: string): string {
  const clean = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
  return clean.isWellFormed() ? clean : clean.toWellFormed();
}

/** Deep copy of a parsed JSON value with every string (keys included) sanitised. */
export function sanitizeJson(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value);
  if (Array.isArray(value)) return value.map(sanitizeJson);
  if (value !== null && typeof value === 'object' && !(value instanceof JsonNumberText)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[sanitizeText(k)] = sanitizeJson(v);
    return out;
  }
  return value;
}

/** The jsonb text form of a parsed JSON value. Strings must already be sanitised. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
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
      const keys = Object.keys(value);
      if (keys.length === 0) return '{}';
      keys.sort(compareKeys);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (i > 0) out += ', ';
        out += `${JSON.stringify(key)}: ${canonicalJson((value as Record<string, unknown>)[key])}`;
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
