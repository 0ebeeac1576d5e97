// Formatting for people: UTC timestamps, ages, JSON, and the denial reason Caracal's console shows.

/** Longest JSON text rendered in the page; the copy buttons still copy all of it. */
export const MAX_RENDERED_JSON = 20_000;

/**
 * `2026-11-26 09:00:00.123` (UTC) from an RFC 3339 timestamp; the input itself when it does not parse.
 * @param {string | null | undefined} iso
 */
export function formatTime(iso) {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?/.exec(iso);
  if (!m || !iso.endsWith('Z')) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : formatTime(d.toISOString());
  }
  return `${m[1]} ${m[2]}${(m[3] ?? '.000').padEnd(4, '0')}`;
}

/** A duration in seconds as `42s`, `3m 12s`, `5h 02m`, `4d 3h`. */
export function formatAge(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** Milliseconds between two timestamps as a short duration (`230 ms`, `30.1 s`). */
export function formatSpan(fromIso, toIso) {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatAge(ms / 1000);
}

/** Pretty JSON, cut at MAX_RENDERED_JSON characters with a note. */
export function prettyJson(value) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  if (text.length <= MAX_RENDERED_JSON) return text;
  return `${text.slice(0, MAX_RENDERED_JSON)}\n… cut at ${MAX_RENDERED_JSON} of ${text.length} characters; copy the JSON for all of it`;
}

/** A scalar as text, anything else as compact JSON. */
export function valueText(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Diagnostics as an array of objects, whatever the producer sent (§3.4: free-form). */
export function diagnosticsList(value) {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined) return [];
  return [value];
}

/**
 * The denial reason as Caracal's console reads it: a diagnostic's `reason`, else metadata `reason`,
 * else the evaluation status.
 * @param {{ diagnostics?: unknown, diagnostics_json?: unknown, metadata?: any, metadata_json?: any, evaluation_status?: string | null }} e
 */
export function denialReason(e) {
  for (const d of diagnosticsList(e.diagnostics ?? e.diagnostics_json)) {
    if (d && typeof d === 'object' && typeof d.reason === 'string') return d.reason;
  }
  const meta = e.metadata ?? e.metadata_json;
  if (meta && typeof meta.reason === 'string') return meta.reason;
  return e.evaluation_status ?? null;
}

/** The first human message among the diagnostics (`message`, else `error`). */
export function diagnosticMessage(diagnostics) {
  for (const d of diagnosticsList(diagnostics)) {
    if (d && typeof d === 'object') {
      if (typeof d.message === 'string') return d.message;
      if (typeof d.error === 'string') return d.error;
    }
  }
  return null;
}

/**
 * Names of determining policies as ledger/explain.ts reads them (`policy`, `id`, `policy_id`, `name`);
 * names already (the trace's `determining_policies`) pass through.
 */
export function policyNames(value) {
  if (!Array.isArray(value)) return [];
  return value.map((p) => {
    if (typeof p === 'string') return p;
    if (p && typeof p === 'object') {
      const name = p.policy ?? p.id ?? p.policy_id ?? p.name;
      if (typeof name === 'string') return name;
    }
    return JSON.stringify(p);
  });
}

/** A plural: `1 event`, `3 events`. */
export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
