// Strategic merge patch for built-in kinds: merge patch plus list merging by patchMergeKey (containers,
// env, volumes, ports by name/port, conditions by type), primitive-list union for finalizers, and the
// directives kubectl's client-side apply emits: $patch (replace|delete|merge), $retainKeys,
// $setElementOrder/<list> and $deleteFromPrimitiveList/<list>.

import { PatchApplyError } from './json-patch.ts';
import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from './json-value.ts';
import type { Shape } from './shape.ts';

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';

function isDirective(key: string): boolean {
  return (
    key === '$patch' ||
    key === '$retainKeys' ||
    key.startsWith(SET_ORDER) ||
    key.startsWith(DELETE_FROM_PRIMITIVE)
  );
}

export function applyStrategicMergePatch(target: JsonValue, patch: JsonValue, shape: Shape): JsonValue {
  if (!isObject(patch)) throw new PatchApplyError('strategic merge patch must be a JSON object');
  return mergeMap(isObject(target) ? target : {}, patch, shape) ?? {};
}

/** The merged map, or undefined when the patch deletes it ($patch: delete). */
function mergeMap(original: JsonObject, patch: JsonObject, shape: Shape): JsonObject | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch, shape);
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchApplyError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const result: JsonObject = clone(original);
  for (const [key, value] of Object.entries(patch)) {
    if (isDirective(key)) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const childShape = shape.child(key);
    const existing = result[key];
    if (Array.isArray(value)) {
      result[key] = mergeList(Array.isArray(existing) ? existing : [], value, childShape);
    } else if (isObject(value)) {
      const merged =
        isObject(existing) && !childShape.atomicMap
          ? mergeMap(existing, value, childShape)
          : stripDirectives(value, childShape);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE) && Array.isArray(value)) {
      const list = key.slice(DELETE_FROM_PRIMITIVE.length);
      const current = result[list];
      if (Array.isArray(current))
        result[list] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(SET_ORDER) && Array.isArray(value)) {
      const list = key.slice(SET_ORDER.length);
      const current = result[list];
      if (Array.isArray(current)) result[list] = reorder(current, value, shape.child(list));
    }
  }
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) {
      if (!retain.includes(key)) delete result[key];
    }
  }
  return result;
}

function mergeKeyOf(shape: Shape): string | undefined {
  const listType = shape.listType;
  return listType.type === 'map' ? listType.keys[0] : undefined;
}

function mergeList(original: JsonValue[], patch: JsonValue[], shape: Shape): JsonValue[] {
  const itemShape = shape.item();
  const mergeKey = mergeKeyOf(shape);
  if (mergeKey !== undefined) {
    if (patch.some((item) => isObject(item) && item['$patch'] === 'replace')) {
      return patch
        .filter((item) => !(isObject(item) && item['$patch'] === 'replace'))
        .map((item) => (isObject(item) ? (stripDirectives(item, itemShape) ?? {}) : item));
    }
    const result = clone(original);
    for (const item of patch) {
      if (!isObject(item)) throw new PatchApplyError(`the list element ${JSON.stringify(item)} is not a map`);
      const key = item[mergeKey];
      const index = result.findIndex((existing) => isObject(existing) && deepEqual(existing[mergeKey], key));
      if (item['$patch'] === 'delete') {
        if (index >= 0) result.splice(index, 1);
        continue;
      }
      if (index >= 0) {
        const merged = mergeMap(result[index] as JsonObject, item, itemShape);
        if (merged === undefined) result.splice(index, 1);
        else result[index] = merged;
      } else {
        result.push(stripDirectives(item, itemShape) ?? {});
      }
    }
    return result;
  }
  if (shape.listType.type === 'set') {
    const result = clone(original);
    for (const item of patch) if (!result.some((existing) => deepEqual(existing, item))) result.push(item);
    return result;
  }
  return patch.map((item) => (isObject(item) ? (stripDirectives(item, itemShape) ?? {}) : item));
}

function reorder(list: JsonValue[], order: JsonValue[], shape: Shape): JsonValue[] {
  const mergeKey = mergeKeyOf(shape);
  const identity = (item: JsonValue): JsonValue =>
    mergeKey !== undefined && isObject(item) ? (item[mergeKey] ?? null) : item;
  const remaining = [...list];
  const ordered: JsonValue[] = [];
  for (const wanted of order) {
    const index = remaining.findIndex((item) => deepEqual(identity(item), identity(wanted)));
    if (index >= 0) ordered.push(...remaining.splice(index, 1));
  }
  return [...ordered, ...remaining];
}

/** A patch value used as a new value: directives removed at every level. */
function stripDirectives(value: JsonObject, shape: Shape): JsonObject | undefined {
  const result: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (isDirective(key) || v === null) continue;
    if (isObject(v)) {
      const stripped = stripDirectives(v, shape.child(key));
      if (stripped !== undefined) result[key] = stripped;
    } else if (Array.isArray(v)) {
      const itemShape = shape.child(key).item();
      result[key] = v
        .filter((item) => !(isObject(item) && (item['$patch'] === 'replace' || item['$patch'] === 'delete')))
        .map((item) => (isObject(item) ? (stripDirectives(item, itemShape) ?? {}) : item));
    } else {
      result[key] = v;
    }
  }
  return result;
}
