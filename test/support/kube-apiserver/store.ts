// The object store: every object by storage key, namespace and name, one global revision counter that
// becomes resourceVersion, and a bounded history of change events per resource for watches to resume
// from (like the apiserver's per-resource watch cache, so a quiet resource is not expired by busy ones).
import type { JsonObject } from './json-value.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  revision: number;
  type: ChangeType;
  storageKey: string;
  /** the object as stored after the change (for DELETED: its last state, at the delete revision) */
  object: JsonObject;
  /** for MODIFIED: the object before the change (watches with selectors need it) */
  previous?: JsonObject;
}

interface ResourceHistory {
  events: StoreEvent[];
  /** highest revision whose event has been dropped */
  compactedThrough: number;
}

export type StoreListener = (event: StoreEvent) => void;

/** First revision handed out; not 0 or 1 so that nothing mistakes an RV for a count or for "any". */
const INITIAL_REVISION = 1000;

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function metadataOf(obj: JsonObject): JsonObject {
  return obj['metadata'] as JsonObject;
}

/**
 * Stored objects are treated as immutable: writers hand over a fresh object, readers copy before changing
 * one. That lets events and list snapshots share references safely.
 */
export class ObjectStore {
  #revision = INITIAL_REVISION;
  readonly #objects = new Map<string, Map<string, JsonObject>>();
  readonly #histories = new Map<string, ResourceHistory>();
  /** uid -> where the object lives, for owner lookups */
  readonly #byUid = new Map<string, { storageKey: string; namespace: string | undefined; name: string }>();
  readonly #historyLimit: number;
  readonly #listeners = new Set<StoreListener>();

  constructor(historyLimit: number) {
    this.#historyLimit = Math.max(1, historyLimit);
  }

  get revision(): number {
    return this.#revision;
  }

  get(storageKey: string, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.#objects.get(storageKey)?.get(objectKey(namespace, name));
  }

  /** Objects of a resource sorted by namespace then name, as etcd key order gives them. */
  list(storageKey: string, namespace?: string): JsonObject[] {
    const all = this.#objects.get(storageKey);
    if (!all) return [];
    const entries = [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const items = entries.map(([, obj]) => obj);
    return namespace === undefined ? items : items.filter((o) => metadataOf(o)['namespace'] === namespace);
  }

  storageKeys(): string[] {
    return [...this.#objects.keys()];
  }

  /** Stores a new or changed object, stamping the next revision as its resourceVersion. */
  put(storageKey: string, obj: JsonObject): JsonObject {
    const meta = metadataOf(obj);
    const key = objectKey(meta['namespace'] as string | undefined, meta['name'] as string);
    let bucket = this.#objects.get(storageKey);
    if (!bucket) {
      bucket = new Map();
      this.#objects.set(storageKey, bucket);
    }
    const previous = bucket.get(key);
    const type: ChangeType = previous ? 'MODIFIED' : 'ADDED';
    const revision = ++this.#revision;
    meta['resourceVersion'] = String(revision);
    bucket.set(key, obj);
    if (typeof meta['uid'] === 'string') {
      this.#byUid.set(meta['uid'], {
        storageKey,
        namespace: meta['namespace'] as string | undefined,
        name: meta['name'] as string,
      });
    }
    this.#record(
      previous
        ? { revision, type, storageKey, object: obj, previous }
        : { revision, type, storageKey, object: obj },
    );
    return obj;
  }

  /** Removes an object; the DELETED event carries its last state at the delete revision. */
  remove(storageKey: string, namespace: string | undefined, name: string): JsonObject | undefined {
    const bucket = this.#objects.get(storageKey);
    const key = objectKey(namespace, name);
    const existing = bucket?.get(key);
    if (!bucket || !existing) return undefined;
    bucket.delete(key);
    if (bucket.size === 0) this.#objects.delete(storageKey);
    const uid = metadataOf(existing)['uid'];
    if (typeof uid === 'string') this.#byUid.delete(uid);
    const revision = ++this.#revision;
    const last: JsonObject = {
      ...existing,
      metadata: { ...metadataOf(existing), resourceVersion: String(revision) },
    };
    this.#record({ revision, type: 'DELETED', storageKey, object: last });
    return last;
  }

  /** The stored object with this uid, if any. */
  getByUid(uid: string): { storageKey: string; object: JsonObject } | undefined {
    const where = this.#byUid.get(uid);
    if (!where) return undefined;
    const object = this.get(where.storageKey, where.namespace, where.name);
    return object ? { storageKey: where.storageKey, object } : undefined;
  }

  /** Events after `revision` for a resource, or 'expired' when some were already compacted away. */
  eventsAfter(revision: number, storageKey: string): StoreEvent[] | 'expired' {
    const history = this.#histories.get(storageKey);
    if (!history) return revision < INITIAL_REVISION ? 'expired' : [];
    if (revision < history.compactedThrough) return 'expired';
    return history.events.filter((e) => e.revision > revision);
  }

  /** Forgets the history of a resource so that any resumed watch on it is expired (fault injection). */
  compact(storageKey?: string): void {
    for (const [key, history] of this.#histories) {
      if (storageKey !== undefined && key !== storageKey) continue;
      history.events.length = 0;
      history.compactedThrough = this.#revision;
    }
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #record(event: StoreEvent): void {
    let history = this.#histories.get(event.storageKey);
    if (!history) {
      history = { events: [], compactedThrough: INITIAL_REVISION };
      this.#histories.set(event.storageKey, history);
    }
    history.events.push(event);
    while (history.events.length > this.#historyLimit) {
      history.compactedThrough = history.events.shift()!.revision;
    }
    for (const listener of [...this.#listeners]) listener(event);
  }
}
