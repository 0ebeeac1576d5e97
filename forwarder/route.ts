// A sink's route compiled for use: the SQL predicate that selects matching events (filtering happens in
// Postgres when the dispatcher plans batches), the same test in JS (for events read once and shared by
// several sinks), and the redaction applied to each event on its way to the sink.
import { REDACTED, SENSITIVE_KEYS } from '../ledger/redact.ts';
import type { SinkRoute } from '../ledger/sinks/spec.ts';
import type { LedgerEvent } from './ledger-event.ts';

interface ValueFilter {
  /** LIKE patterns (backslash escapes) for Postgres. */
  like: string[];
  exact: Set<string>;
  prefixes: string[];
}

export interface CompiledRoute {
  /** null means "any value". */
  eventTypes: ValueFilter | null;
  decisions: ValueFilter | null;
  zones: ValueFilter | null;
  redactor: Redactor;
  /** No filter at all: every event matches. */
  matchesAll: boolean;
}

/** An exact value, or a prefix when it ends in `*`, as a LIKE pattern (backslash escapes). */
export function likePattern(value: string): string {
  const prefix = value.endsWith('*');
  const body = (prefix ? value.slice(0, -1) : value).replace(/[\\%_]/g, (c) => `\\${c}`);
  return prefix ? `${body}%` : body;
}

function filter(values: string[]): ValueFilter | null {
  if (values.length === 0) return null;
  const unique = [...new Set(values)];
  return {
    like: unique.map(likePattern),
    exact: new Set(unique.filter((v) => !v.endsWith('*'))),
    prefixes: unique.filter((v) => v.endsWith('*')).map((v) => v.slice(0, -1)),
  };
}

export function compileRoute(route: SinkRoute): CompiledRoute {
  const eventTypes = filter(route.eventTypes);
  const decisions = filter(route.decisions);
  const zones = filter(route.zones);
  return {
    eventTypes,
    decisions,
    zones,
    redactor: new Redactor(route.redactKeys),
    matchesAll: eventTypes === null && decisions === null && zones === null,
  };
}

/**
 * `AND ...` conditions on audit_events for the route, with parameters numbered from `firstParam`.
 * An event with a NULL decision matches only a route that does not filter on decisions.
 */
export function routePredicate(
  route: CompiledRoute,
  firstParam: number,
): { sql: string; params: string[][] } {
  const parts: string[] = [];
  const params: string[][] = [];
  const add = (column: string, f: ValueFilter | null) => {
    if (f === null) return;
    params.push(f.like);
    parts.push(`AND ${column} LIKE ANY ($${firstParam + params.length - 1}::text[])`);
  };
  add('event_type', route.eventTypes);
  add('decision', route.decisions);
  add('zone_id', route.zones);
  return { sql: parts.join(' '), params };
}

function passes(f: ValueFilter | null, value: string | null): boolean {
  if (f === null) return true;
  if (value === null) return false;
  return f.exact.has(value) || f.prefixes.some((p) => value.startsWith(p));
}

/** The JS twin of routePredicate. */
export function routeMatches(
  route: CompiledRoute,
  e: Pick<LedgerEvent, 'event_type' | 'decision' | 'zone_id'>,
): boolean {
  return (
    passes(route.eventTypes, e.event_type) &&
    passes(route.decisions, e.decision) &&
    passes(route.zones, e.zone_id)
  );
}

/** Keys remembered per redactor; beyond it the memo starts over (free-form metadata can have any keys). */
const MEMO_MAX = 10_000;

/**
 * Caracal's read-path redaction (ledger/redact.ts: its key list, its key rule — lower case, '-' as
 * '_') plus a route's redactKeys, compiled for the delivery path: key decisions are remembered, and a
 * value is copied only where something inside it is redacted (events may be shared between sinks).
 */
export class Redactor {
  readonly #extra: ReadonlySet<string>;
  readonly #memo = new Map<string, boolean>();

  constructor(extraKeys: readonly string[]) {
    this.#extra = new Set(extraKeys.map(normalise));
  }

  isSensitive(key: string): boolean {
    let sensitive = this.#memo.get(key);
    if (sensitive === undefined) {
      const n = normalise(key);
      sensitive = SENSITIVE_KEYS.has(n) || this.#extra.has(n);
      if (this.#memo.size >= MEMO_MAX) this.#memo.clear();
      this.#memo.set(key, sensitive);
    }
    return sensitive;
  }

  /** The value with sensitive keys redacted at any depth; the same value when nothing needed it. */
  redact(value: unknown): unknown {
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        const r = this.redact(v);
        if (r !== v) {
          out ??= value.slice();
          out[i] = r;
        }
      }
      return out ?? value;
    }
    if (value === null || typeof value !== 'object') return value;
    let out: Record<string, unknown> | undefined;
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      const r = this.isSensitive(key) ? REDACTED : this.redact(v);
      if (r !== v) {
        out ??= { ...obj };
        out[key] = r;
      }
    }
    return out ?? value;
  }
}

function normalise(key: string): string {
  return key.toLowerCase().replaceAll('-', '_');
}

/** The event as a sink may see it: sensitive keys redacted in the three free-form JSON columns. */
export function redactEvent(event: LedgerEvent, route: CompiledRoute): LedgerEvent {
  const r = route.redactor;
  const determining = r.redact(event.determining_policies_json);
  const diagnostics = r.redact(event.diagnostics_json);
  const metadata = r.redact(event.metadata_json);
  if (
    determining === event.determining_policies_json &&
    diagnostics === event.diagnostics_json &&
    metadata === event.metadata_json
  ) {
    return event;
  }
  return {
    ...event,
    determining_policies_json: determining,
    diagnostics_json: diagnostics,
    metadata_json: metadata,
  };
}
