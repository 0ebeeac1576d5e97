// Field paths in the structured-merge-diff form used by managedFields: f:<field>, k:<list-map key>,
// v:<set value>. Collects the owned leaf paths of an object under its Shape, converts path sets to and
// from fieldsV1 trees, and reads or removes the value at a path.
import { deepEqual, isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { listMapKey, type Shape } from './shape.ts';

/** A path as a list of elements, e.g. ["f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:image"]. */
export type FieldPath = string[];

/** Path sets are keyed by the JSON encoding of the element list. */
export function encodePath(path: readonly string[]): string {
  return JSON.stringify(path);
}

export function decodePath(encoded: string): FieldPath {
  return JSON.parse(encoded) as FieldPath;
}

/** Values at every owned path: leaves (scalars, atomic lists/maps, empty maps), list-map items, set items. */
export type FieldValues = Map<string, JsonValue>;

const UNTRACKED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

export function collectFieldValues(obj: JsonObject | undefined, shape: Shape): FieldValues {
  const out: FieldValues = new Map();
  if (!obj) return out;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata' && isObject(value)) {
      const metaShape = shape.child('metadata');
      for (const [mk, mv] of Object.entries(value)) {
        if (UNTRACKED_METADATA.has(mk)) continue;
        collect(mv, metaShape.child(mk), ['f:metadata', `f:${mk}`], out);
      }
      continue;
    }
    collect(value, shape.child(key), [`f:${key}`], out);
  }
  return out;
}

function collect(value: JsonValue, shape: Shape, path: FieldPath, out: FieldValues): void {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (shape.atomicMap || keys.length === 0) {
      out.set(encodePath(path), value);
      return;
    }
    for (const key of keys) collect(value[key]!, shape.child(key), [...path, `f:${key}`], out);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    const listType = shape.listType;
    if (listType.type === 'map') {
      const keys = value.map((item) => listMapKey(item, listType));
      if (keys.every((k) => k !== undefined)) {
        const itemShape = shape.item();
        value.forEach((item, i) => {
          const itemPath = [...path, `k:${JSON.stringify(keys[i])}`];
          out.set(encodePath(itemPath), keys[i] as JsonObject);
          for (const [field, v] of Object.entries(item as JsonObject)) {
            collect(v, itemShape.child(field), [...itemPath, `f:${field}`], out);
          }
        });
        return;
      }
    } else if (listType.type === 'set') {
      for (const item of value) out.set(encodePath([...path, `v:${JSON.stringify(item)}`]), item);
      return;
    }
  }
  out.set(encodePath(path), value);
}

/** Renders a path set as a fieldsV1 tree, marking with "." the nodes owned in their own right. */
export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  const owned: JsonObject[] = [];
  for (const encoded of paths) {
    let node = root;
    for (const element of decodePath(encoded)) {
      let child = node[element];
      if (!isObject(child)) {
        child = {};
        node[element] = child;
      }
      node = child;
    }
    owned.push(node);
  }
  for (const node of owned) if (Object.keys(node).length > 0) node['.'] = {};
  return sortTree(root);
}

function sortTree(node: JsonObject): JsonObject {
  const sorted: JsonObject = {};
  for (const key of Object.keys(node).sort()) sorted[key] = sortTree(node[key] as JsonObject);
  return sorted;
}

export function fromFieldsV1(tree: JsonValue | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: JsonObject, path: FieldPath): void => {
    const children = Object.keys(node).filter((k) => k !== '.');
    if (path.length > 0 && (children.length === 0 || '.' in node)) out.add(encodePath(path));
    for (const key of children) {
      const child = node[key];
      if (isObject(child)) walk(child, [...path, key]);
    }
  };
  if (isObject(tree)) walk(tree, []);
  return out;
}

/** Whether `path` equals `prefix` or lies beneath it. */
export function isWithin(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((element, i) => path[i] === element);
}

function findItem(list: JsonValue[], element: string): number {
  const payload = JSON.parse(element.slice(2)) as JsonValue;
  if (element.startsWith('v:')) return list.findIndex((item) => deepEqual(item, payload));
  return list.findIndex(
    (item) =>
      isObject(item) && isObject(payload) && Object.entries(payload).every(([k, v]) => deepEqual(item[k], v)),
  );
}

/** Deletes the value at a path; removes maps left empty by the deletion (except metadata). */
export function removePath(obj: JsonObject, path: FieldPath): void {
  const trail: { container: JsonObject | JsonValue[]; key: string | number }[] = [];
  let current: JsonValue = obj;
  for (const element of path) {
    if (element.startsWith('f:') && isObject(current)) {
      const key = element.slice(2);
      if (!(key in current)) return;
      trail.push({ container: current, key });
      current = current[key]!;
    } else if ((element.startsWith('k:') || element.startsWith('v:')) && Array.isArray(current)) {
      const index = findItem(current, element);
      if (index < 0) return;
      trail.push({ container: current, key: index });
      current = current[index]!;
    } else {
      return;
    }
  }
  for (let i = trail.length - 1; i >= 0; i--) {
    const { container, key } = trail[i]!;
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key as string];
    const parentIsEmptyMap = isObject(container) && Object.keys(container).length === 0;
    const parentIsMetadata = i === 1 && trail[0]!.key === 'metadata';
    if (!parentIsEmptyMap || i === 0 || parentIsMetadata) break;
  }
}

/** Renders a path for conflict messages: .spec.containers[name="app"].image */
export function renderPath(path: readonly string[]): string {
  return path
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      if (element.startsWith('v:')) return `[${element.slice(2)}]`;
      if (element.startsWith('k:')) {
        const key = JSON.parse(element.slice(2)) as JsonObject;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return element;
    })
    .join('');
}
