// Configuration keys: each one an environment variable with a parser, a default and a line of docs.
// Roles compose keys into one typed schema; loading names the key, the value and what was expected.
import { readFileSync } from 'node:fs';
import { Errors, LedgerhubError } from '../errors.ts';

export interface KeyDef<T> {
  readonly env: string;
  readonly parse: (raw: string) => T;
  /** What the parser expects, for error messages and docs. */
  readonly expects: string;
  readonly default: T;
  /** Default as documented (secrets and computed defaults read better in words). */
  readonly defaultDoc: string;
  readonly doc: string;
  /** Secrets may come from `<ENV>_FILE` and are never logged or rendered into ConfigMaps. */
  readonly secret: boolean;
}

export type Keys = Record<string, KeyDef<unknown>>;
export type ConfigOf<K extends Keys> = { readonly [P in keyof K]: K[P] extends KeyDef<infer T> ? T : never };

interface KeyOptions<T> {
  default: T;
  defaultDoc?: string;
  doc: string;
  secret?: boolean;
}

class ParseError extends Error {}

function define<T>(env: string, expects: string, parse: (raw: string) => T, opts: KeyOptions<T>): KeyDef<T> {
  return {
    env,
    parse,
    expects,
    default: opts.default,
    defaultDoc:
      opts.defaultDoc ??
      (opts.default === undefined || opts.default === '' ? '(unset)' : String(opts.default)),
    doc: opts.doc,
    secret: opts.secret ?? false,
  };
}

export function stringKey(env: string, opts: KeyOptions<string>, pattern?: RegExp): KeyDef<string> {
  const expects = pattern ? `a string matching ${pattern}` : 'a string';
  return define(
    env,
    expects,
    (raw) => {
      if (pattern && !pattern.test(raw)) throw new ParseError();
      return raw;
    },
    opts,
  );
}

export function intKey(env: string, min: number, max: number, opts: KeyOptions<number>): KeyDef<number> {
  return define(
    env,
    `an integer from ${min} to ${max}`,
    (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) throw new ParseError();
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < min || n > max) throw new ParseError();
      return n;
    },
    opts,
  );
}

export function boolKey(env: string, opts: KeyOptions<boolean>): KeyDef<boolean> {
  return define(
    env,
    'true or false',
    (raw) => {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(v)) return true;
      if (['false', '0', 'no'].includes(v)) return false;
      throw new ParseError();
    },
    opts,
  );
}

export function enumKey<const T extends string>(
  env: string,
  values: readonly T[],
  opts: KeyOptions<T>,
): KeyDef<T> {
  return define(
    env,
    `one of ${values.join(', ')}`,
    (raw) => {
      if (!(values as readonly string[]).includes(raw)) throw new ParseError();
      return raw as T;
    },
    opts,
  );
}

export function urlKey(env: string, protocols: string[], opts: KeyOptions<string>): KeyDef<string> {
  return define(
    env,
    `a URL (${protocols.map((p) => `${p}//`).join(' or ')})`,
    (raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new ParseError();
      }
      if (!protocols.includes(url.protocol)) throw new ParseError();
      return raw;
    },
    opts,
  );
}

/** A value with a custom parser that throws an Error whose message says what was wrong. */
export function customKey<T>(
  env: string,
  expects: string,
  parse: (raw: string) => T,
  opts: KeyOptions<T>,
): KeyDef<T> {
  return define(env, expects, parse, opts);
}

/** Reads one role's configuration from the environment; throws config_invalid naming key, value and expectation. */
export function loadConfig<K extends Keys>(
  role: string,
  keys: K,
  env: Record<string, string | undefined> = process.env,
): ConfigOf<K> {
  const out: Record<string, unknown> = {};
  for (const [field, def] of Object.entries(keys)) {
    const raw = readRaw(def, env);
    if (raw === undefined || raw === '') {
      out[field] = def.default;
      continue;
    }
    try {
      out[field] = def.parse(raw);
    } catch (err) {
      const shown = def.secret
        ? '<redacted>'
        : JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
      const why = err instanceof ParseError || !(err instanceof Error) ? '' : ` (${err.message})`;
      throw new LedgerhubError(
        Errors.configInvalid,
        `${role}: ${def.env}=${shown} is not valid: expected ${def.expects}${why}`,
        { key: def.env },
      );
    }
  }
  return out as ConfigOf<K>;
}

function readRaw(def: KeyDef<unknown>, env: Record<string, string | undefined>): string | undefined {
  const direct = env[def.env];
  if (direct !== undefined && direct !== '') return direct;
  if (!def.secret) return direct;
  const file = env[`${def.env}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new LedgerhubError(
      Errors.configInvalid,
      `${def.env}_FILE=${file} cannot be read: ${(err as Error).message}`,
      { key: `${def.env}_FILE` },
    );
  }
}

/** Renders a typed configuration back to environment variables (what the operator puts in a ConfigMap). */
export function renderEnv<K extends Keys>(keys: K, config: Partial<ConfigOf<K>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, def] of Object.entries(keys)) {
    const value = (config as Record<string, unknown>)[field];
    if (value === undefined || def.secret) continue;
    out[def.env] = String(value);
  }
  return out;
}
