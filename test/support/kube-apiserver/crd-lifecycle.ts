// What the apiextensions apiserver does around a CRD: serving its resources the moment it is stored
// (and writing Established/NamesAccepted status), and on deletion marking it Terminating, deleting every
// instance, then releasing the cleanup finalizer and unserving the resources.
import type { ClusterState } from './cluster-state.ts';
import { type ControllerLoop, startControllerLoop } from './controller-loop.ts';
import { crdResourceTypes, establishedStatus } from './crd-registration.ts';
import { clone, deepEqual, isObject, type JsonObject } from './json-value.ts';
import { deleteStored } from './object-deletion.ts';
import { finalizersOf, timestampNow } from './object-meta.ts';
import { CRD_CLEANUP_FINALIZER, storeDirectly } from './object-writes.ts';
import { type ResourceType, storageKeyOf } from './resource-types.ts';
import type { StoreEvent } from './store.ts';

function isCrdType(type: ResourceType): boolean {
  return type.group === 'apiextensions.k8s.io' && type.plural === 'customresourcedefinitions';
}

function nameOf(obj: JsonObject): string {
  return String((obj['metadata'] as JsonObject)['name']);
}

/** Registers the commit hook that serves CRDs synchronously, and the cleanup controller. */
export function startCrdLifecycle(state: ClusterState): ControllerLoop {
  const { registry, store } = state;
  const crdType = (): ResourceType =>
    registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;

  state.onCommit((type, object, removed) => {
    if (!isCrdType(type)) return;
    if (removed) {
      registry.unregister(nameOf(object));
      return;
    }
    registry.register(crdResourceTypes(object), nameOf(object));
    const terminating = (object['metadata'] as JsonObject)['deletionTimestamp'] !== undefined;
    const status = establishedStatus(object, object['status']);
    if (terminating) {
      const conditions = status['conditions'] as JsonObject[];
      const previous =
        isObject(object['status']) && Array.isArray(object['status']['conditions'])
          ? object['status']['conditions']
          : [];
      const existing = previous.find((c) => isObject(c) && c['type'] === 'Terminating');
      conditions.push({
        type: 'Terminating',
        status: 'True',
        lastTransitionTime:
          isObject(existing) && typeof existing['lastTransitionTime'] === 'string'
            ? existing['lastTransitionTime']
            : timestampNow(),
        reason: 'InstanceDeletionInProgress',
        message: 'CustomResource deletion is in progress',
      });
    }
    if (deepEqual(object['status'], status)) return;
    const updated = clone(object);
    updated['status'] = status;
    storeDirectly(state, crdType(), updated);
  });

  const cleanUp = (crd: JsonObject): void => {
    const types = crdResourceTypes(crd);
    const storageType = types.find((t) => t.version === t.storageVersion) ?? types[0];
    let remaining = 0;
    if (storageType) {
      for (const object of store.list(storageKeyOf(storageType))) {
        remaining++;
        if ((object['metadata'] as JsonObject)['deletionTimestamp'] === undefined) {
          deleteStored(state, storageType, object, 'Background', false);
        }
      }
    }
    if (remaining > 0) return;
    const released = clone(crd);
    const meta = released['metadata'] as JsonObject;
    meta['finalizers'] = finalizersOf(meta).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    if ((meta['finalizers'] as string[]).length === 0) delete meta['finalizers'];
    storeDirectly(state, crdType(), released);
  };

  const handle = (events: StoreEvent[]): void => {
    const crdKey = storageKeyOf(crdType());
    const toCheck = new Set<string>();
    for (const event of events) {
      if (event.storageKey === crdKey) {
        if (event.type !== 'DELETED') toCheck.add(nameOf(event.object));
      } else {
        const [group, plural] = event.storageKey.split('/');
        if (group) toCheck.add(`${plural}.${group}`);
      }
    }
    for (const name of toCheck) {
      const crd = store.get(crdKey, undefined, name);
      if (!crd) continue;
      const meta = crd['metadata'] as JsonObject;
      if (meta['deletionTimestamp'] !== undefined && finalizersOf(meta).includes(CRD_CLEANUP_FINALIZER))
        cleanUp(crd);
    }
  };

  return startControllerLoop(store, handle);
}
