// Reads: get, and list with label/field selectors, all-namespaces scope and limit/continue pagination.
// A paginated list serves every page from the snapshot taken for the first one, as etcd does, and a
// continue token whose snapshot is gone answers 410 Expired.
import { randomBytes } from 'node:crypto';
import { ApiErrors } from './api-errors.ts';
import type { ClusterState } from './cluster-state.ts';
import type { JsonObject } from './json-value.ts';
import { groupResourceOf, type ResourceType, storageKeyOf } from './resource-types.ts';
import {
  type FieldSelector,
  type LabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.ts';

/** Extra field selectors the built-in kinds support (pkg/registry/*\/strategy.go GetAttrs). */
const BUILTIN_SELECTABLE: Record<string, string[]> = {
  '/secrets': ['type'],
  '/namespaces': ['status.phase'],
  '/events': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  'events.k8s.io/events': [
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'reason',
    'type',
  ],
  'batch/jobs': ['status.successful'],
};

export function selectableFields(type: ResourceType): Set<string> {
  const fields = new Set(['metadata.name', 'metadata.namespace', ...type.selectableFields]);
  for (const f of BUILTIN_SELECTABLE[storageKeyOf(type)] ?? []) fields.add(f);
  return fields;
}

export interface Selection {
  labels: LabelSelector;
  fields: FieldSelector;
}

export function parseSelection(type: ResourceType, query: URLSearchParams): Selection {
  return {
    labels: parseLabelSelector(query.get('labelSelector')),
    fields: parseFieldSelector(query.get('fieldSelector'), selectableFields(type)),
  };
}

export function selects(selection: Selection, obj: JsonObject): boolean {
  const meta = obj['metadata'] as JsonObject;
  return matchesLabels(selection.labels, meta['labels']) && matchesFields(selection.fields, obj);
}

export function getObject(
  state: ClusterState,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
): JsonObject {
  const stored = state.stored(type, namespace, name);
  if (!stored) throw ApiErrors.notFound(groupResourceOf(type), name);
  return state.present(type, stored);
}

export interface ListPage {
  items: JsonObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

interface Snapshot {
  resourceVersion: string;
  remaining: JsonObject[];
}

/** How many paginated list snapshots are kept for continue tokens. */
const SNAPSHOT_LIMIT = 256;

export class CollectionReader {
  readonly #state: ClusterState;
  readonly #snapshots = new Map<string, Snapshot>();

  constructor(state: ClusterState) {
    this.#state = state;
  }

  /** The stored objects a list selects, in key order (storage form; callers present them). */
  select(type: ResourceType, namespace: string | undefined, selection: Selection): JsonObject[] {
    return this.#state.store
      .list(storageKeyOf(type), type.namespaced ? namespace : undefined)
      .filter((obj) => selects(selection, obj));
  }

  list(type: ResourceType, namespace: string | undefined, query: URLSearchParams): ListPage {
    const limitText = query.get('limit');
    const limit = limitText ? Number(limitText) : 0;
    if (!Number.isInteger(limit) || limit < 0) throw ApiErrors.badRequest(`invalid limit: ${limitText}`);
    const token = query.get('continue');
    let snapshot: Snapshot;
    if (token) {
      const saved = this.#snapshots.get(token);
      if (!saved) {
        throw ApiErrors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      this.#snapshots.delete(token);
      snapshot = saved;
    } else {
      const selection = parseSelection(type, query);
      snapshot = {
        resourceVersion: String(this.#state.store.revision),
        remaining: this.select(type, namespace, selection),
      };
    }
    const pageItems = limit > 0 ? snapshot.remaining.slice(0, limit) : snapshot.remaining;
    const rest = limit > 0 ? snapshot.remaining.slice(limit) : [];
    const page: ListPage = {
      items: pageItems.map((obj) => this.#state.present(type, obj)),
      resourceVersion: snapshot.resourceVersion,
    };
    if (rest.length > 0) {
      const next = Buffer.from(
        JSON.stringify({
          v: 'meta.k8s.io/v1',
          rv: Number(snapshot.resourceVersion),
          id: randomBytes(8).toString('hex'),
        }),
      ).toString('base64url');
      this.#snapshots.set(next, { resourceVersion: snapshot.resourceVersion, remaining: rest });
      while (this.#snapshots.size > SNAPSHOT_LIMIT)
        this.#snapshots.delete(this.#snapshots.keys().next().value!);
      page.continueToken = next;
      page.remainingItemCount = rest.length;
    }
    return page;
  }

  /** Forgets every continue token (fault injection: the next continue answers 410). */
  expireContinueTokens(): void {
    this.#snapshots.clear();
  }
}
