// What the server knows about each served resource (group, version, names, scope, subresources,
// schema, merge shape) and the registry that maps REST paths and kinds to them.
import type { GroupResource } from './api-errors.ts';
import type { FieldError } from './field-errors.ts';
import type { JsonObject } from './json-value.ts';
import type { NameRule } from './object-meta.ts';
import type { Shape } from './shape.ts';
import type { SchemaProps } from './structural-schema.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority: number;
  jsonPath: string;
}

/** Kind-specific behaviour of built-in resources: defaulting, validation and immutable fields. */
export interface BuiltinBehaviour {
  /** fills defaulted fields in place, as the apiserver's defaulting functions do */
  applyDefaults?(obj: JsonObject): void;
  /** validation beyond object metadata; `old` is set on update */
  validate?(obj: JsonObject, old: JsonObject | undefined): FieldError[];
  /** rewrites the object before validation (Secret stringData folding, Service clusterIP) */
  prepare?(obj: JsonObject, old: JsonObject | undefined): void;
  /** Table columns for kubectl get */
  columns?: TableColumns;
}

export interface TableColumns {
  definitions: PrinterColumn[];
  cells(obj: JsonObject): (string | number | boolean | null)[];
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  /** how metadata.name is validated */
  nameRule: NameRule;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** the version objects are stored in; equal for all versions of one resource */
  storageVersion: string;
  statusSubresource: boolean;
  /** whether metadata.generation is maintained */
  hasGeneration: boolean;
  /** whether PUT without metadata.resourceVersion is accepted (false for custom resources) */
  allowUnconditionalUpdate: boolean;
  /** whether DELETE answers with the deleted object instead of a Success Status */
  returnDeletedObject: boolean;
  origin: 'builtin' | 'custom';
  /** openAPIV3Schema of this version (custom resources) */
  schema?: SchemaProps;
  shape: Shape;
  printerColumns: PrinterColumn[];
  /** fields usable in fieldSelector besides metadata.name and metadata.namespace, as JSON paths */
  selectableFields: string[];
  behaviour: BuiltinBehaviour;
}

export function apiVersionOf(type: { group: string; version: string }): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function groupResourceOf(type: ResourceType): GroupResource {
  return { group: type.group, resource: type.plural };
}

/** Objects of all versions of a resource live under one storage key. */
export function storageKeyOf(type: { group: string; plural: string }): string {
  return `${type.group}/${type.plural}`;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The served resources, keyed by group/version and plural; custom resources are registered per CRD. */
export class ResourceRegistry {
  readonly #byGroupVersion = new Map<string, Map<string, ResourceType>>();
  readonly #owners = new Map<string, ResourceType[]>();
  /** group -> preferred version, in registration order */
  readonly #groupOrder = new Map<string, string>();

  register(types: readonly ResourceType[], owner?: string): void {
    if (owner) this.unregister(owner);
    for (const type of types) {
      const gv = apiVersionOf(type);
      let resources = this.#byGroupVersion.get(gv);
      if (!resources) {
        resources = new Map();
        this.#byGroupVersion.set(gv, resources);
      }
      resources.set(type.plural, type);
      if (!this.#groupOrder.has(type.group)) this.#groupOrder.set(type.group, type.version);
    }
    if (owner) this.#owners.set(owner, [...types]);
  }

  unregister(owner: string): void {
    const types = this.#owners.get(owner);
    if (!types) return;
    this.#owners.delete(owner);
    for (const type of types) {
      const gv = apiVersionOf(type);
      const resources = this.#byGroupVersion.get(gv);
      resources?.delete(type.plural);
      if (resources?.size === 0) this.#byGroupVersion.delete(gv);
    }
    for (const group of [...this.#groupOrder.keys()]) {
      if (!this.versionsOf(group).length) this.#groupOrder.delete(group);
    }
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.#byGroupVersion.get(group ? `${group}/${version}` : version)?.get(plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const type of this.#byGroupVersion.get(apiVersion)?.values() ?? []) {
      if (type.kind === kind) return type;
    }
    return undefined;
  }

  /** The storage-version type of a resource, whatever version a request used. */
  storageTypeOf(type: ResourceType): ResourceType {
    return this.lookup(type.group, type.storageVersion, type.plural) ?? type;
  }

  /** Resources of one group/version in registration order. */
  resourcesOf(group: string, version: string): ResourceType[] {
    return [...(this.#byGroupVersion.get(group ? `${group}/${version}` : version)?.values() ?? [])];
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.#byGroupVersion.has(group ? `${group}/${version}` : version);
  }

  groups(): string[] {
    return [...this.#groupOrder.keys()].filter((g) => g !== '');
  }

  versionsOf(group: string): string[] {
    const versions: string[] = [];
    for (const gv of this.#byGroupVersion.keys()) {
      const parsed = splitApiVersion(gv);
      if (parsed.group === group) versions.push(parsed.version);
    }
    return versions.sort(compareKubeVersions);
  }

  /** One type per stored resource (its storage version), for whole-store scans such as GC. */
  storageTypes(): ResourceType[] {
    const seen = new Map<string, ResourceType>();
    for (const resources of this.#byGroupVersion.values()) {
      for (const type of resources.values()) {
        const key = storageKeyOf(type);
        if (!seen.has(key) || type.version === type.storageVersion) seen.set(key, type);
      }
    }
    return [...seen.values()];
  }
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first (v2 > v1 > v1beta2 > v1beta1). */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stability = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [sa, ma, na] = rank(a);
  const [sb, mb, nb] = rank(b);
  return sb - sa || mb - ma || nb - na || a.localeCompare(b);
}
