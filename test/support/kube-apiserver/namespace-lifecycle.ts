// The namespace controller: once a namespace is terminating, every object in it is deleted; when none is
// left, spec.finalizers is cleared and the namespace goes away. (Part of kube-controller-manager in a
// real cluster, so it can be switched off to behave like envtest.)
import type { ClusterState } from './cluster-state.ts';
import { type ControllerLoop, startControllerLoop } from './controller-loop.ts';
import { clone, isObject, type JsonObject, objectAt } from './json-value.ts';
import { deleteStored } from './object-deletion.ts';
import { storeDirectly } from './object-writes.ts';
import { storageKeyOf } from './resource-types.ts';
import type { StoreEvent } from './store.ts';

export function startNamespaceController(state: ClusterState): ControllerLoop {
  const { store, registry } = state;
  const namespaceType = state.namespaceType();

  const terminating = (name: string): JsonObject | undefined => {
    const ns = state.stored(namespaceType, undefined, name);
    return ns && isObject(ns['metadata']) && ns['metadata']['deletionTimestamp'] !== undefined
      ? ns
      : undefined;
  };

  const drain = (namespace: JsonObject): void => {
    const name = String((namespace['metadata'] as JsonObject)['name']);
    let remaining = 0;
    for (const type of registry.storageTypes()) {
      if (!type.namespaced) continue;
      for (const object of store.list(storageKeyOf(type), name)) {
        remaining++;
        if ((object['metadata'] as JsonObject)['deletionTimestamp'] === undefined) {
          deleteStored(state, type, object, 'Background', false);
        }
      }
    }
    if (remaining > 0) return;
    const finalized = clone(namespace);
    objectAt(finalized, 'spec')['finalizers'] = [];
    storeDirectly(state, namespaceType, finalized);
  };

  const handle = (events: StoreEvent[]): void => {
    const touched = new Set<string>();
    for (const event of events) {
      const meta = event.object['metadata'] as JsonObject;
      if (event.storageKey === storageKeyOf(namespaceType)) {
        if (event.type !== 'DELETED') touched.add(String(meta['name']));
      } else if (typeof meta['namespace'] === 'string') {
        touched.add(meta['namespace']);
      }
    }
    for (const name of touched) {
      const namespace = terminating(name);
      if (namespace) drain(namespace);
    }
  };

  return startControllerLoop(store, handle);
}
