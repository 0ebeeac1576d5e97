// How lists and maps at each path merge: the list type (atomic, set, or map keyed by fields) and whether
// a map is atomic. Strategic merge patch and server-side apply both walk objects with a Shape; custom
// resources derive it from their schema, built-in kinds from a table of well-known list fields.
import type { JsonValue } from './json-value.ts';
import type { SchemaProps } from './structural-schema.ts';

export type ListType =
  | { type: 'atomic' }
  | { type: 'set' }
  /** keyDefaults fill key fields that an item omits (ports default to protocol TCP) */
  | { type: 'map'; keys: string[]; keyDefaults?: Record<string, JsonValue> };

export interface Shape {
  readonly listType: ListType;
  readonly atomicMap: boolean;
  child(name: string): Shape;
  item(): Shape;
}

const ATOMIC: ListType = { type: 'atomic' };

// Built-in list fields that are not atomic, from the patchMergeKey / listMapKeys tags of the core types.
function builtinListType(path: readonly string[]): ListType {
  const name = path[path.length - 1];
  const inPodSpec =
    path.includes('containers') || path.includes('initContainers') || path.includes('ephemeralContainers');
  switch (name) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return { type: 'map', keys: ['name'] };
    case 'volumeMounts':
      return { type: 'map', keys: ['mountPath'] };
    case 'volumeDevices':
      return { type: 'map', keys: ['devicePath'] };
    case 'hostAliases':
      return { type: 'map', keys: ['ip'] };
    case 'ports':
      return inPodSpec
        ? { type: 'map', keys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } }
        : { type: 'map', keys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } };
    case 'conditions':
      return { type: 'map', keys: ['type'] };
    case 'finalizers':
      return path.length === 2 && path[0] === 'metadata' ? { type: 'set' } : ATOMIC;
    case 'ownerReferences':
      return { type: 'map', keys: ['uid'] };
    case 'topologySpreadConstraints':
      return { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'] };
    default:
      return ATOMIC;
  }
}

/** Shape of built-in kinds (and of every object's metadata). */
export class BuiltinShape implements Shape {
  readonly #path: readonly string[];
  constructor(path: readonly string[] = []) {
    this.#path = path;
  }
  get listType(): ListType {
    return builtinListType(this.#path);
  }
  get atomicMap(): boolean {
    return this.#path.length === 3 && this.#path[0] === 'metadata' && this.#path[1] === 'managedFields';
  }
  child(name: string): Shape {
    return new BuiltinShape([...this.#path, name]);
  }
  item(): Shape {
    return this;
  }
}

/** Shape for data no schema describes: lists atomic, maps granular. */
export const UNKNOWN_SHAPE: Shape = {
  listType: ATOMIC,
  atomicMap: false,
  child: () => UNKNOWN_SHAPE,
  item: () => UNKNOWN_SHAPE,
};

/** Shape of a custom resource, read off its structural schema. */
export class SchemaShape implements Shape {
  readonly #schema: SchemaProps;
  readonly #root: boolean;
  constructor(schema: SchemaProps, root = false) {
    this.#schema = schema;
    this.#root = root;
  }
  get listType(): ListType {
    const type = this.#schema['x-kubernetes-list-type'];
    if (type === 'set') return { type: 'set' };
    if (type === 'map') return { type: 'map', keys: this.#schema['x-kubernetes-list-map-keys'] ?? [] };
    return ATOMIC;
  }
  get atomicMap(): boolean {
    return this.#schema['x-kubernetes-map-type'] === 'atomic';
  }
  child(name: string): Shape {
    if (this.#root && name === 'metadata') return new BuiltinShape(['metadata']);
    const declared = this.#schema.properties?.[name];
    if (declared) return new SchemaShape(declared);
    if (typeof this.#schema.additionalProperties === 'object')
      return new SchemaShape(this.#schema.additionalProperties);
    if (this.#schema['x-kubernetes-embedded-resource'] && name === 'metadata')
      return new BuiltinShape(['metadata']);
    return UNKNOWN_SHAPE;
  }
  item(): Shape {
    return this.#schema.items ? new SchemaShape(this.#schema.items) : UNKNOWN_SHAPE;
  }
}

/** The key of a list-map item, with defaults filled, or undefined when a key field is missing. */
export function listMapKey(
  item: JsonValue,
  listType: Extract<ListType, { type: 'map' }>,
): Record<string, JsonValue> | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const key: Record<string, JsonValue> = {};
  for (const field of listType.keys) {
    const value = item[field] ?? listType.keyDefaults?.[field];
    if (value === undefined) return undefined;
    key[field] = value;
  }
  return key;
}
