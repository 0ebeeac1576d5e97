// The state one fake apiserver serves: the object store, the resource registry, and the conversions
// between a stored object and the object served at a requested version (apiVersion, read-time defaults).
import { ApiErrors } from './api-errors.ts';
import { clone, type JsonObject, stringAt } from './json-value.ts';
import { apiVersionOf, type ResourceRegistry, type ResourceType, storageKeyOf } from './resource-types.ts';
import { applySchemaDefaults } from './schema-defaults.ts';
import type { ObjectStore } from './store.ts';

/** Called synchronously after an object is stored or removed (CRD registration needs this). */
export type CommitHook = (type: ResourceType, object: JsonObject, removed: boolean) => void;

export class ClusterState {
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  readonly gcEnabled: boolean;
  readonly #commitHooks: CommitHook[] = [];

  constructor(store: ObjectStore, registry: ResourceRegistry, gcEnabled: boolean) {
    this.store = store;
    this.registry = registry;
    this.gcEnabled = gcEnabled;
  }

  onCommit(hook: CommitHook): void {
    this.#commitHooks.push(hook);
  }

  committed(type: ResourceType, object: JsonObject, removed: boolean): void {
    for (const hook of this.#commitHooks) hook(type, object, removed);
  }

  /** The stored object (do not modify; copy first). */
  stored(type: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.store.get(storageKeyOf(type), type.namespaced ? namespace : undefined, name);
  }

  /** A copy of a stored object as served at `type`'s version, with schema defaults applied on read. */
  present(type: ResourceType, stored: JsonObject): JsonObject {
    const obj = clone(stored);
    obj['apiVersion'] = apiVersionOf(type);
    if (type.schema) applySchemaDefaults(obj, type.schema);
    return obj;
  }

  /** The object in storage form: apiVersion of the storage version. */
  toStorage(type: ResourceType, obj: JsonObject): JsonObject {
    obj['apiVersion'] = apiVersionOf({ group: type.group, version: type.storageVersion });
    return obj;
  }

  /** The storage-version type that owns a storage key, if still registered. */
  typeForStorageKey(storageKey: string): ResourceType | undefined {
    return this.registry.storageTypes().find((t) => storageKeyOf(t) === storageKey);
  }

  namespaceType(): ResourceType {
    return this.registry.lookup('', 'v1', 'namespaces')!;
  }

  /** NamespaceLifecycle admission: the namespace must exist and not be terminating. */
  admitNamespacedCreate(type: ResourceType, namespace: string, name: string): void {
    const ns = this.stored(this.namespaceType(), undefined, namespace);
    if (!ns) throw ApiErrors.notFound({ group: '', resource: 'namespaces' }, namespace);
    if (stringAt(ns, ['metadata', 'deletionTimestamp']) !== undefined) {
      throw ApiErrors.forbidden(
        { group: type.group, resource: type.plural },
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }
}
