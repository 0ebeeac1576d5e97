// JSON value types for stored objects, and the structural operations every other module needs:
// type guards, deep equality and deep copies.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function clone<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** The object at `obj[key]`, created empty when absent or not an object. */
export function objectAt(obj: JsonObject, key: string): JsonObject {
  const existing = obj[key];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

/** Reads a value by a list of keys (no list indexing); undefined when any step is missing. */
export function valueAt(root: JsonValue | undefined, keys: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const key of keys) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function stringAt(root: JsonValue | undefined, keys: readonly string[]): string | undefined {
  const v = valueAt(root, keys);
  return typeof v === 'string' ? v : undefined;
}

/** The JSON type name Kubernetes uses in messages: object, array, string, integer, number, boolean, null. */
export function jsonTypeName(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
