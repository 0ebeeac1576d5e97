// Caracal's read-path redaction (apps/api/src/redact.ts): any key named like a secret, at any depth,
// has its value replaced with "[redacted]". Applied to metadata on every read path.

/** Caracal's list; note it includes `session` and `session_id` (the authority record id). */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  'password',
  'passwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'apikey',
  'authorization',
  'cookie',
  'set_cookie',
  'client_secret',
  'private_key',
  'session',
  'session_id',
  'assertion',
]);

export const REDACTED = '[redacted]';

function normalise(key: string): string {
  return key.toLowerCase().replaceAll('-', '_');
}

/** A deep copy with sensitive keys redacted; `extra` adds keys (a sink's or policy's redactKeys). */
export function redactSensitive(value: unknown, extra: ReadonlySet<string> = new Set()): unknown {
  if (Array.isArray(value)) return value.map((v) => redactSensitive(v, extra));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const n = normalise(k);
    out[k] = SENSITIVE_KEYS.has(n) || extra.has(n) ? REDACTED : redactSensitive(v, extra);
  }
  return out;
}
