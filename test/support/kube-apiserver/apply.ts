// Server-side apply: merges an apply configuration into the live object under the object's Shape,
// detects conflicts with fields other managers own (409 unless force), takes ownership of the applied
// fields, and removes fields this manager applied before and no longer applies, when nobody else owns them.
import { ApiErrors } from './api-errors.ts';
import {
  collectFieldValues,
  decodePath,
  type FieldValues,
  isWithin,
  removePath,
  renderPath,
} from './field-set.ts';
import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { entryFor, type ManagedEntry, sameIdentity } from './managed-fields.ts';
import { timestampNow } from './object-meta.ts';
import { listMapKey, type Shape } from './shape.ts';

export interface ApplyRequest {
  /** the live object, or undefined when the apply creates it */
  live: JsonObject | undefined;
  /** the apply configuration, limited to the fields this endpoint may set */
  applied: JsonObject;
  manager: string;
  subresource: string | undefined;
  apiVersion: string;
  force: boolean;
  shape: Shape;
  entries: ManagedEntry[];
}

export interface ApplyOutcome {
  object: JsonObject;
  entries: ManagedEntry[];
}

const IDENTITY_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generateName']);

export function serverSideApply(request: ApplyRequest): ApplyOutcome {
  const applied = withoutNulls(request.applied) as JsonObject;
  const live = request.live ?? {};
  const merged = mergeRoot(live, applied, request.shape);

  const liveValues = collectFieldValues(request.live, request.shape);
  const mergedValues = collectFieldValues(merged, request.shape);
  const appliedValues = collectFieldValues(applied, request.shape);

  const entries = request.entries.map((e) => ({ ...e, fields: new Set(e.fields) }));
  const isApplier = (e: ManagedEntry): boolean =>
    sameIdentity(e, request.manager, 'Apply', request.subresource);

  const conflicts: { entry: ManagedEntry; path: string }[] = [];
  for (const entry of entries) {
    if (isApplier(entry) || entry.manager === request.manager) continue;
    for (const path of entry.fields) {
      if (changedBy(path, liveValues, mergedValues)) conflicts.push({ entry, path });
    }
  }
  if (conflicts.length > 0 && !request.force) {
    throw ApiErrors.applyConflict(
      conflicts.map(({ entry, path }) => ({
        manager:
          entry.operation === 'Apply' ? `"${entry.manager}"` : `"${entry.manager}" using ${entry.apiVersion}`,
        field: renderPath(decodePath(path)),
      })),
    );
  }
  for (const { entry, path } of conflicts) entry.fields.delete(path);

  const applier = entryFor(entries, request.manager, 'Apply', request.subresource, request.apiVersion);
  const previouslyApplied = [...applier.fields];
  applier.fields = new Set(appliedValues.keys());
  applier.apiVersion = request.apiVersion;
  if (!sameSet(previouslyApplied, applier.fields)) applier.time = timestampNow();

  const removed = previouslyApplied.filter((p) => !applier.fields.has(p)).map(decodePath);
  const stillApplied = [...applier.fields].map(decodePath);
  const ownedByOthers = entries.filter((e) => e !== applier).flatMap((e) => [...e.fields].map(decodePath));
  // shallowest first: removing an item removes its fields with it
  for (const path of removed.sort((a, b) => a.length - b.length)) {
    if (stillApplied.some((p) => isWithin(p, path))) continue;
    if (ownedByOthers.some((p) => isWithin(p, path))) continue;
    if (isKeyField(path)) continue;
    removePath(merged, path);
  }
  return { object: merged, entries };
}

/** A list-map item's key field goes with its item, never on its own. */
function isKeyField(path: readonly string[]): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  if (!parent?.startsWith('k:') || !last?.startsWith('f:')) return false;
  return Object.hasOwn(JSON.parse(parent.slice(2)) as object, last.slice(2));
}

/** Whether applying changes (or removes) the value another manager owns at this path. */
function changedBy(path: string, before: FieldValues, after: FieldValues): boolean {
  if (!before.has(path)) return false;
  return !after.has(path) || !deepEqual(before.get(path), after.get(path));
}

function sameSet(a: readonly string[], b: ReadonlySet<string>): boolean {
  return a.length === b.size && a.every((x) => b.has(x));
}

function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

function mergeRoot(live: JsonObject, applied: JsonObject, shape: Shape): JsonObject {
  const out = clone(live);
  for (const [key, value] of Object.entries(applied)) {
    if (key === 'metadata' && isObject(value) && isObject(out['metadata'])) {
      const meta = out['metadata'];
      const metaShape = shape.child('metadata');
      for (const [mk, mv] of Object.entries(value)) {
        if (IDENTITY_METADATA.has(mk) || mk === 'managedFields') continue;
        meta[mk] = mergeValue(meta[mk], mv, metaShape.child(mk));
      }
      continue;
    }
    out[key] = mergeValue(out[key], value, shape.child(key));
  }
  return out;
}

function mergeValue(live: JsonValue | undefined, applied: JsonValue, shape: Shape): JsonValue {
  if (isObject(applied)) {
    if (!isObject(live) || shape.atomicMap) return clone(applied);
    const out = clone(live);
    for (const [key, value] of Object.entries(applied))
      out[key] = mergeValue(out[key], value, shape.child(key));
    return out;
  }
  if (Array.isArray(applied)) {
    if (!Array.isArray(live)) return clone(applied);
    const listType = shape.listType;
    if (listType.type === 'map') {
      const appliedKeys = applied.map((item) => listMapKey(item, listType));
      if (appliedKeys.some((k) => k === undefined)) return clone(applied);
      const out = clone(live);
      applied.forEach((item, i) => {
        const key = appliedKeys[i]!;
        const index = out.findIndex((existing) => deepEqual(listMapKey(existing, listType), key));
        if (index >= 0) out[index] = mergeValue(out[index], item, shape.item());
        else out.push(clone(item));
      });
      return out;
    }
    if (listType.type === 'set') {
      const out = clone(live);
      for (const item of applied) if (!out.some((existing) => deepEqual(existing, item))) out.push(item);
      return out;
    }
    return clone(applied);
  }
  return applied;
}
