// The request log: one record per HTTP request with its Kubernetes verb, resource and status, and the
// counters tests and benchmarks read (total, writes in a time window, per verb, per resource).

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const WRITE_VERBS: ReadonlySet<string> = new Set([
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
]);

export interface RequestRecord {
  /** Date.now() when the request arrived */
  time: number;
  method: string;
  path: string;
  verb: Verb;
  /** plural resource name for resource requests, undefined for discovery and other non-resource paths */
  resource?: string;
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** HTTP status; 0 until the response starts */
  code: number;
  fieldManager?: string;
  userAgent?: string;
}

export interface RequestFilter {
  verb?: Verb | readonly Verb[];
  resource?: string;
  group?: string;
  namespace?: string;
  subresource?: string;
  /** only requests that arrived at or after this Date.now() timestamp */
  sinceMs?: number;
  writesOnly?: boolean;
  resourceRequestsOnly?: boolean;
}

/** How many records are kept; counters keep counting past it. */
const RECORD_LIMIT = 100_000;

export class RequestLog {
  #records: RequestRecord[] = [];
  #total = 0;

  record(entry: RequestRecord): RequestRecord {
    this.#total++;
    this.#records.push(entry);
    if (this.#records.length > RECORD_LIMIT) this.#records.splice(0, this.#records.length - RECORD_LIMIT);
    return entry;
  }

  total(): number {
    return this.#total;
  }

  /** Write requests (create, update, patch, delete, deletecollection), optionally since a Date.now() timestamp. */
  writes(sinceMs?: number): number {
    return this.count({ writesOnly: true, ...(sinceMs === undefined ? {} : { sinceMs }) });
  }

  byVerb(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.#records) counts[r.verb] = (counts[r.verb] ?? 0) + 1;
    return counts;
  }

  /** Counts per "resource" or "resource.group" (and "/status" for the subresource). */
  byResource(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.#records) {
      if (!r.resource) continue;
      const key = `${r.group ? `${r.resource}.${r.group}` : r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  entries(filter: RequestFilter = {}): RequestRecord[] {
    return this.#records.filter((r) => matches(r, filter));
  }

  count(filter: RequestFilter = {}): number {
    return this.entries(filter).length;
  }

  reset(): void {
    this.#records = [];
    this.#total = 0;
  }
}

function matches(r: RequestRecord, f: RequestFilter): boolean {
  if (f.verb !== undefined && !(typeof f.verb === 'string' ? [f.verb] : f.verb).includes(r.verb))
    return false;
  if (f.resource !== undefined && r.resource !== f.resource) return false;
  if (f.group !== undefined && r.group !== f.group) return false;
  if (f.namespace !== undefined && r.namespace !== f.namespace) return false;
  if (f.subresource !== undefined && r.subresource !== f.subresource) return false;
  if (f.sinceMs !== undefined && r.time < f.sinceMs) return false;
  if (f.writesOnly && !WRITE_VERBS.has(r.verb)) return false;
  if (f.resourceRequestsOnly && r.resource === undefined) return false;
  return true;
}
