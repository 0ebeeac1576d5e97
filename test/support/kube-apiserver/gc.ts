// The garbage collector: deletes dependents whose owners (by ownerReferences uid, same namespace or a
// cluster-scoped owner) are all gone, drops dangling references from dependents that still have an
// owner, and carries out Orphan (remove the references, then the orphan finalizer) and Foreground (delete
// dependents, release the owner once no blocking dependent is left) deletion.
import type { ClusterState } from './cluster-state.ts';
import { type ControllerLoop, startControllerLoop } from './controller-loop.ts';
import { clone, isObject, type JsonObject } from './json-value.ts';
import { deleteStored, FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from './object-deletion.ts';
import { finalizersOf } from './object-meta.ts';
import { storeDirectly } from './object-writes.ts';
import { type ResourceType, storageKeyOf } from './resource-types.ts';
import type { StoreEvent } from './store.ts';

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  blockOwnerDeletion?: boolean;
}

function metaOf(obj: JsonObject): JsonObject {
  return obj['metadata'] as JsonObject;
}

function ownerReferences(obj: JsonObject): OwnerReference[] {
  const refs = metaOf(obj)['ownerReferences'];
  return Array.isArray(refs) ? (refs.filter(isObject) as unknown as OwnerReference[]) : [];
}

interface Located {
  type: ResourceType;
  object: JsonObject;
}

export function startGarbageCollector(state: ClusterState): ControllerLoop {
  const { store, registry } = state;

  /** Whether the owner a reference names is present (uid match, in the dependent's namespace if namespaced). */
  const ownerPresent = (ref: OwnerReference, dependent: JsonObject): boolean => {
    if (!registry.byKind(ref.apiVersion, ref.kind)) return true; // unknown kinds are never collected
    const found = store.getByUid(ref.uid);
    if (!found) return false;
    const ownerNamespace = metaOf(found.object)['namespace'];
    if (ownerNamespace === undefined) return true;
    return ownerNamespace === metaOf(dependent)['namespace'];
  };

  const dependentsOf = (owner: JsonObject): Located[] => {
    const uid = metaOf(owner)['uid'];
    const namespace = metaOf(owner)['namespace'] as string | undefined;
    const found: Located[] = [];
    for (const type of registry.storageTypes()) {
      if (namespace !== undefined && !type.namespaced) continue;
      for (const object of store.list(storageKeyOf(type), namespace)) {
        if (ownerReferences(object).some((r) => r.uid === uid)) found.push({ type, object });
      }
    }
    return found;
  };

  const withoutReferencesTo = (dependent: Located, uids: ReadonlySet<string>): void => {
    const copy = clone(dependent.object);
    const meta = metaOf(copy);
    const kept = ownerReferences(copy).filter((r) => !uids.has(r.uid));
    if (kept.length === 0) delete meta['ownerReferences'];
    else meta['ownerReferences'] = kept as unknown as JsonObject[];
    storeDirectly(state, dependent.type, copy);
  };

  const removeFinalizer = (located: Located, finalizer: string): void => {
    const copy = clone(located.object);
    const meta = metaOf(copy);
    meta['finalizers'] = finalizersOf(meta).filter((f) => f !== finalizer);
    if ((meta['finalizers'] as string[]).length === 0) delete meta['finalizers'];
    storeDirectly(state, located.type, copy);
  };

  /** Collects a dependent whose owners are all gone, or prunes its dangling references. */
  const collect = (dependent: Located): void => {
    const refs = ownerReferences(dependent.object);
    if (refs.length === 0 || metaOf(dependent.object)['deletionTimestamp'] !== undefined) return;
    const dangling = refs.filter((r) => !ownerPresent(r, dependent.object));
    if (dangling.length === 0) return;
    if (dangling.length < refs.length) {
      withoutReferencesTo(dependent, new Set(dangling.map((r) => r.uid)));
      return;
    }
    deleteStored(state, dependent.type, dependent.object, 'Background', false);
  };

  const orphan = (owner: Located): void => {
    const uid = String(metaOf(owner.object)['uid']);
    for (const dependent of dependentsOf(owner.object)) withoutReferencesTo(dependent, new Set([uid]));
    removeFinalizer(owner, ORPHAN_FINALIZER);
  };

  const foreground = (owner: Located): void => {
    const uid = metaOf(owner.object)['uid'];
    const dependents = dependentsOf(owner.object);
    for (const dependent of dependents) {
      if (metaOf(dependent.object)['deletionTimestamp'] === undefined) {
        deleteStored(state, dependent.type, dependent.object, 'Foreground', false);
      }
    }
    const blocking = dependentsOf(owner.object).filter((d) =>
      ownerReferences(d.object).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
    );
    if (blocking.length === 0) removeFinalizer(owner, FOREGROUND_FINALIZER);
  };

  const current = (event: StoreEvent): Located | undefined => {
    const type = state.typeForStorageKey(event.storageKey);
    const meta = metaOf(event.object);
    const object =
      type && store.get(event.storageKey, meta['namespace'] as string | undefined, String(meta['name']));
    return type && object ? { type, object } : undefined;
  };

  const handle = (events: StoreEvent[]): void => {
    for (const event of events) {
      if (event.type === 'DELETED') {
        for (const dependent of dependentsOf(event.object)) collect(dependent);
        for (const ref of ownerReferences(event.object)) {
          const owner = store.getByUid(ref.uid);
          const type = owner && state.typeForStorageKey(owner.storageKey);
          if (owner && type && finalizersOf(metaOf(owner.object)).includes(FOREGROUND_FINALIZER)) {
            foreground({ type, object: owner.object });
          }
        }
        continue;
      }
      const located = current(event);
      if (!located || metaOf(located.object)['resourceVersion'] !== metaOf(event.object)['resourceVersion'])
        continue;
      collect(located);
      const meta = metaOf(located.object);
      if (meta['deletionTimestamp'] === undefined) continue;
      const finalizers = finalizersOf(meta);
      if (finalizers.includes(ORPHAN_FINALIZER)) orphan(located);
      else if (finalizers.includes(FOREGROUND_FINALIZER)) foreground(located);
    }
  };

  return startControllerLoop(store, handle);
}
