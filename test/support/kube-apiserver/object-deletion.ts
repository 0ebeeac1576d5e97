// The delete path: preconditions, propagation policy (Background, Foreground, Orphan), finalizers and
// graceful deletion (deletionTimestamp set, object kept until the last finalizer goes), immediate removal
// with a Success Status, and delete-collection.
import { ApiErrors } from './api-errors.ts';
import type { ClusterState } from './cluster-state.ts';
import { fieldError } from './field-errors.ts';
import { clone, isObject, type JsonObject, objectAt } from './json-value.ts';
import { finalizersOf, timestampNow } from './object-meta.ts';
import { deletionBlocked, removeObject, storeDirectly, type WriteResult } from './object-writes.ts';
import { groupResourceOf, type ResourceType } from './resource-types.ts';

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

export interface DeleteRequest {
  type: ResourceType;
  namespace: string | undefined;
  dryRun: boolean;
  /** DeleteOptions from the body and query */
  options: JsonObject;
}

const POLICIES = new Set(['Background', 'Foreground', 'Orphan']);

/** The propagation policy a DeleteOptions asks for; Background when it says nothing. */
export function propagationPolicyOf(options: JsonObject): PropagationPolicy {
  const policy = options['propagationPolicy'];
  const orphan = options['orphanDependents'];
  if (policy !== undefined && orphan !== undefined) {
    throw ApiErrors.invalidOptions('DeleteOptions', [
      fieldError(
        'Invalid',
        'propagationPolicy',
        String(policy),
        'orphanDependents and deletionPropagation cannot be both set',
      ),
    ]);
  }
  if (policy !== undefined) {
    if (typeof policy !== 'string' || !POLICIES.has(policy)) {
      throw ApiErrors.invalidOptions('DeleteOptions', [
        fieldError(
          'NotSupported',
          'propagationPolicy',
          policy ?? null,
          'supported values: "Foreground", "Background", "Orphan"',
        ),
      ]);
    }
    return policy as PropagationPolicy;
  }
  return orphan === true ? 'Orphan' : 'Background';
}

function checkPreconditions(type: ResourceType, stored: JsonObject, options: JsonObject): void {
  const preconditions = options['preconditions'];
  if (!isObject(preconditions)) return;
  const meta = stored['metadata'] as JsonObject;
  const name = String(meta['name']);
  const uid = preconditions['uid'];
  if (typeof uid === 'string' && uid !== meta['uid']) {
    throw ApiErrors.conflict(
      groupResourceOf(type),
      name,
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${String(meta['uid'])}`,
    );
  }
  const rv = preconditions['resourceVersion'];
  if (typeof rv === 'string' && rv !== meta['resourceVersion']) {
    throw ApiErrors.conflict(
      groupResourceOf(type),
      name,
      `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${String(meta['resourceVersion'])}`,
    );
  }
}

function isNamespace(type: ResourceType): boolean {
  return type.group === '' && type.plural === 'namespaces';
}

/**
 * Starts or completes the deletion of a stored object: with finalizers (or a propagation finalizer), the
 * object gets deletionTimestamp and stays; without, it is removed. Returns the object's new state and
 * whether it is gone.
 */
export function deleteStored(
  state: ClusterState,
  type: ResourceType,
  stored: JsonObject,
  policy: PropagationPolicy,
  dryRun: boolean,
): { object: JsonObject; removed: boolean } {
  const obj = clone(stored);
  const meta = objectAt(obj, 'metadata');
  const finalizers = finalizersOf(meta);
  const propagation =
    policy === 'Orphan' ? ORPHAN_FINALIZER : policy === 'Foreground' ? FOREGROUND_FINALIZER : undefined;
  // the apiserver adds the propagation finalizer whatever the dependents; the garbage collector removes it
  const addsFinalizer = propagation !== undefined && !finalizers.includes(propagation);
  if (addsFinalizer) meta['finalizers'] = [...finalizers, propagation];
  if (!deletionBlocked(type, obj)) {
    if (dryRun) return { object: obj, removed: true };
    return { object: removeObject(state, type, obj), removed: true };
  }
  const alreadyDeleting = meta['deletionTimestamp'] !== undefined;
  if (alreadyDeleting && !addsFinalizer) return { object: obj, removed: false };
  if (!alreadyDeleting) {
    meta['deletionTimestamp'] = timestampNow();
    meta['deletionGracePeriodSeconds'] = 0;
    if (type.hasGeneration && typeof meta['generation'] === 'number') meta['generation'] += 1;
    if (isNamespace(type)) objectAt(obj, 'status')['phase'] = 'Terminating';
  }
  if (dryRun) return { object: obj, removed: false };
  return { object: storeDirectly(state, type, obj), removed: false };
}

function successStatus(type: ResourceType, obj: JsonObject): JsonObject {
  const meta = obj['metadata'] as JsonObject;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: meta['name'] ?? '', group: type.group, kind: type.plural, uid: meta['uid'] ?? '' },
  };
}

/** Namespaces the apiserver refuses to delete (NamespaceLifecycle immortal namespaces). */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export function deleteObject(state: ClusterState, request: DeleteRequest, name: string): WriteResult {
  const { type } = request;
  if (isNamespace(type) && IMMORTAL_NAMESPACES.has(name)) {
    throw ApiErrors.forbidden(groupResourceOf(type), name, 'this namespace may not be deleted');
  }
  const stored = state.stored(type, request.namespace, name);
  if (!stored) throw ApiErrors.notFound(groupResourceOf(type), name);
  checkPreconditions(type, stored, request.options);
  const policy = propagationPolicyOf(request.options);
  const { object, removed } = deleteStored(state, type, stored, policy, request.dryRun);
  if (removed) {
    return {
      code: 200,
      object: type.returnDeletedObject ? state.present(type, object) : successStatus(type, object),
    };
  }
  // 202 only when the caller explicitly asked for cascading with orphanDependents=false, as the apiserver does
  const code = request.options['orphanDependents'] === false ? 202 : 200;
  return { code, object: state.present(type, object) };
}

/** DELETE on a collection: every matching object is deleted as if one by one. */
export function deleteCollection(
  state: ClusterState,
  request: DeleteRequest,
  matching: readonly JsonObject[],
): JsonObject[] {
  const policy = propagationPolicyOf(request.options);
  return matching.map((stored) =>
    state.present(request.type, deleteStored(state, request.type, stored, policy, request.dryRun).object),
  );
}
