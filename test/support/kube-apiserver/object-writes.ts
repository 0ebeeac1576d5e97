// The write pipeline of the fake apiserver: create and update (PUT) of main resources and the status
// subresource, in the order the real one admits them: decode, namespace lifecycle, status isolation,
// pruning (with fieldValidation), defaulting, validation, optimistic concurrency, managedFields,
// generation, no-op detection, then storage. Patches and apply (object-patches.ts) end up here too.
import { ApiError, ApiErrors } from './api-errors.ts';
import type { ClusterState } from './cluster-state.ts';
import { type FieldError, invalid, RawValue } from './field-errors.ts';
import { collectFieldValues } from './field-set.ts';
import { clone, deepEqual, isObject, type JsonObject, type JsonValue, objectAt } from './json-value.ts';
import {
  type ManagedEntry,
  managerName,
  parseManagedFields,
  renderManagedFields,
  retainExisting,
  trackUpdate,
} from './managed-fields.ts';
import {
  finalizersOf,
  generateName,
  newUid,
  timestampNow,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './object-meta.ts';
import { apiVersionOf, groupResourceOf, type ResourceType, storageKeyOf } from './resource-types.ts';
import { applySchemaDefaults } from './schema-defaults.ts';
import { pruneObjectMeta, pruneUnknownFields } from './schema-pruning.ts';
import { validateAgainstSchema } from './schema-validation.ts';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface WriteRequest {
  type: ResourceType;
  namespace: string | undefined;
  subresource: 'status' | undefined;
  dryRun: boolean;
  fieldManager: string | undefined;
  fieldValidation: FieldValidation;
  userAgent: string | undefined;
  /** Warning headers to send back (fieldValidation=Warn) */
  warnings: string[];
}

export interface WriteResult {
  code: number;
  object: JsonObject;
}

/** The finalizer the apiextensions apiserver puts on every CRD so that its instances are cleaned up. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export function metadataOf(obj: JsonObject): JsonObject {
  return objectAt(obj, 'metadata');
}

/** Checks apiVersion/kind of a request body against the endpoint (built-ins may omit them). */
export function decodeObject(body: unknown, type: ResourceType): JsonObject {
  if (!isObject(body)) throw ApiErrors.badRequest('the body of the request was in an unknown format');
  const obj = clone(body);
  const expectedVersion = apiVersionOf(type);
  if (obj['kind'] === undefined || obj['kind'] === '') {
    if (type.origin === 'custom')
      throw ApiErrors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    obj['kind'] = type.kind;
  }
  if (obj['apiVersion'] === undefined || obj['apiVersion'] === '') {
    if (type.origin === 'custom')
      throw ApiErrors.badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
    obj['apiVersion'] = expectedVersion;
  }
  if (obj['apiVersion'] !== expectedVersion) {
    throw ApiErrors.badRequest(
      `the API version in the data (${String(obj['apiVersion'])}) does not match the expected API version (${expectedVersion})`,
    );
  }
  if (obj['kind'] !== type.kind) {
    throw ApiErrors.badRequest(
      `the kind in the data (${String(obj['kind'])}) does not match the expected kind (${type.kind})`,
    );
  }
  if (obj['metadata'] !== undefined && !isObject(obj['metadata'])) {
    throw ApiErrors.badRequest('metadata must be an object');
  }
  metadataOf(obj);
  return obj;
}

export function checkNamespace(request: WriteRequest, obj: JsonObject): void {
  const meta = metadataOf(obj);
  if (!request.type.namespaced) {
    delete meta['namespace'];
    return;
  }
  if (
    meta['namespace'] !== undefined &&
    meta['namespace'] !== '' &&
    meta['namespace'] !== request.namespace
  ) {
    throw ApiErrors.badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  meta['namespace'] = request.namespace!;
}

/** Drops undeclared fields; fieldValidation decides whether that is silent, a warning or an error. */
function pruneUnknown(request: WriteRequest, obj: JsonObject): void {
  const { type } = request;
  const pruned = type.schema ? pruneUnknownFields(obj, type.schema) : pruneObjectMeta(obj);
  if (pruned.length === 0 || request.fieldValidation === 'Ignore') return;
  const messages = pruned.map((p) => `unknown field "${p}"`);
  if (request.fieldValidation === 'Warn') {
    request.warnings.push(...messages);
    return;
  }
  throw ApiErrors.badRequest(
    `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${messages.join(', ')}`,
  );
}

function applyDefaults(type: ResourceType, obj: JsonObject): void {
  if (type.schema) applySchemaDefaults(obj, type.schema);
  type.behaviour.applyDefaults?.(obj);
}

function validate(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const meta = metadataOf(obj);
  const errors = validateObjectMeta(meta, { nameRule: type.nameRule, namespaced: type.namespaced });
  if (old) errors.push(...validateObjectMetaUpdate(meta, metadataOf(old)));
  if (type.schema) errors.push(...validateAgainstSchema(obj, type.schema, old));
  errors.push(...(type.behaviour.validate?.(obj, old) ?? []));
  return errors;
}

function rejectInvalid(type: ResourceType, obj: JsonObject, errors: FieldError[]): void {
  if (errors.length > 0) {
    throw ApiErrors.invalid(type.group, type.kind, String(metadataOf(obj)['name'] ?? ''), errors);
  }
}

function specChanged(type: ResourceType, old: JsonObject, obj: JsonObject): boolean {
  const strip = (o: JsonObject): JsonObject => {
    const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = o;
    if (type.statusSubresource) delete rest['status'];
    return rest;
  };
  return !deepEqual(strip(old), strip(obj));
}

/** Equality that ignores what every write touches anyway (resourceVersion, managedFields timestamps). */
function sameContent(a: JsonObject, b: JsonObject): boolean {
  const normalize = (o: JsonObject): JsonObject => {
    const copy = clone(o);
    const meta = metadataOf(copy);
    delete meta['resourceVersion'];
    if (Array.isArray(meta['managedFields'])) {
      meta['managedFields'] = meta['managedFields'].map((e) => {
        if (!isObject(e)) return e;
        const { time: _t, ...rest } = e;
        return rest;
      });
    }
    return copy;
  };
  return deepEqual(normalize(a), normalize(b));
}

function persist(state: ClusterState, type: ResourceType, obj: JsonObject): JsonObject {
  const stored = state.toStorage(type, obj);
  state.store.put(storageKeyOf(type), stored);
  state.committed(state.registry.storageTypeOf(type), stored, false);
  return stored;
}

/** Removes an object whose deletion is complete; the DELETED event carries its last state. */
export function removeObject(state: ClusterState, type: ResourceType, obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  const removed = state.store.remove(
    storageKeyOf(type),
    meta['namespace'] as string | undefined,
    String(meta['name']),
  );
  const last = removed ?? obj;
  state.committed(state.registry.storageTypeOf(type), last, true);
  return last;
}

/** Whether something still holds the object: finalizers, or for a namespace its spec.finalizers. */
export function deletionBlocked(type: ResourceType, obj: JsonObject): boolean {
  if (finalizersOf(metadataOf(obj)).length > 0) return true;
  if (type.group === '' && type.plural === 'namespaces') {
    const spec = obj['spec'];
    return isObject(spec) && Array.isArray(spec['finalizers']) && spec['finalizers'].length > 0;
  }
  return false;
}

/** Stores a changed object without the admission pipeline (controllers in the fake use this). */
export function storeDirectly(state: ClusterState, type: ResourceType, obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  if (meta['deletionTimestamp'] !== undefined && !deletionBlocked(type, obj))
    return removeObject(state, type, obj);
  return persist(state, type, obj);
}

function newEntries(body: JsonObject, fallback: JsonValue | undefined): ManagedEntry[] {
  const provided = metadataOf(body)['managedFields'];
  return parseManagedFields(provided !== undefined ? provided : fallback);
}

// ---------------------------------------------------------------------------------------------- create

export function createObject(state: ClusterState, request: WriteRequest, body: unknown): WriteResult {
  const obj = decodeObject(body, request.type);
  return admitCreate(state, request, obj, newEntries(obj, undefined), 'Update');
}

/** The create pipeline shared by POST and by an apply that creates. */
export function admitCreate(
  state: ClusterState,
  request: WriteRequest,
  obj: JsonObject,
  entries: ManagedEntry[],
  operation: 'Apply' | 'Update',
): WriteResult {
  const { type } = request;
  checkNamespace(request, obj);
  const meta = metadataOf(obj);
  const rv = meta['resourceVersion'];
  if (rv !== undefined && rv !== '' && rv !== '0') {
    throw ApiErrors.storage('resourceVersion should not be set on objects to be created');
  }
  if (
    (meta['name'] === undefined || meta['name'] === '') &&
    typeof meta['generateName'] === 'string' &&
    meta['generateName'] !== ''
  ) {
    meta['name'] = generateName(meta['generateName']);
  }
  const name = String(meta['name'] ?? '');
  if (type.namespaced && name !== '') state.admitNamespacedCreate(type, request.namespace!, name);
  if (type.origin === 'custom') refuseWhileCrdTerminates(state, type);

  for (const key of [
    'uid',
    'resourceVersion',
    'selfLink',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'generation',
  ]) {
    delete meta[key];
  }
  meta['uid'] = newUid();
  meta['creationTimestamp'] = timestampNow();
  if (type.statusSubresource) {
    delete obj['status'];
    if (type.origin === 'builtin') obj['status'] = {};
  }
  if (type.kind === 'CustomResourceDefinition' && type.group === 'apiextensions.k8s.io') {
    const finalizers = finalizersOf(meta);
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER))
      meta['finalizers'] = [...finalizers, CRD_CLEANUP_FINALIZER];
  }
  type.behaviour.prepare?.(obj, undefined);
  pruneUnknown(request, obj);
  applyDefaults(type, obj);
  rejectInvalid(type, obj, validate(type, obj, undefined));

  const allFields = collectFieldValues(obj, type.shape);
  const tracked =
    operation === 'Apply'
      ? retainExisting(entries, allFields)
      : trackUpdate(
          entries,
          new Map(),
          allFields,
          managerName(request.fieldManager, request.userAgent),
          request.subresource,
          apiVersionOf(type),
        );
  meta['managedFields'] = renderManagedFields(tracked);
  if (type.hasGeneration) meta['generation'] = 1;

  if (state.stored(type, request.namespace, name)) throw ApiErrors.alreadyExists(groupResourceOf(type), name);
  if (request.dryRun) return { code: 201, object: state.present(type, obj) };
  const stored = persist(state, type, obj);
  return { code: 201, object: state.present(type, stored) };
}

function refuseWhileCrdTerminates(state: ClusterState, type: ResourceType): void {
  const crdType = state.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  const crd = crdType ? state.stored(crdType, undefined, `${type.plural}.${type.group}`) : undefined;
  if (crd && isObject(crd['metadata']) && crd['metadata']['deletionTimestamp'] !== undefined) {
    throw new ApiError(
      405,
      'MethodNotAllowed',
      'create not allowed while custom resource definition is terminating',
    );
  }
}

// ---------------------------------------------------------------------------------------------- update

export function updateObject(
  state: ClusterState,
  request: WriteRequest,
  name: string,
  body: unknown,
): WriteResult {
  const { type } = request;
  const obj = decodeObject(body, type);
  const meta = metadataOf(obj);
  if (meta['name'] === undefined || meta['name'] === '') meta['name'] = name;
  if (meta['name'] !== name) {
    throw ApiErrors.badRequest(
      `the name of the object (${String(meta['name'])}) does not match the name on the URL (${name})`,
    );
  }
  checkNamespace(request, obj);
  const stored = state.stored(type, request.namespace, name);
  if (!stored) throw ApiErrors.notFound(groupResourceOf(type), name);
  const rv = meta['resourceVersion'];
  if ((rv === undefined || rv === '') && !type.allowUnconditionalUpdate) {
    throw ApiErrors.invalid(type.group, type.kind, name, [
      invalid('metadata.resourceVersion', new RawValue('0x0'), 'must be specified for an update'),
    ]);
  }
  const entries = newEntries(obj, metadataOf(stored)['managedFields']);
  return admitUpdate(state, request, stored, obj, { operation: 'Update', entries });
}

export interface UpdateMode {
  operation: 'Apply' | 'Update';
  entries: ManagedEntry[];
}

/** The update pipeline shared by PUT, patches and applies to an existing object. */
export function admitUpdate(
  state: ClusterState,
  request: WriteRequest,
  stored: JsonObject,
  body: JsonObject,
  mode: UpdateMode,
): WriteResult {
  const { type } = request;
  const old = state.present(type, stored);
  const oldMeta = metadataOf(old);
  const name = String(oldMeta['name']);
  const gr = groupResourceOf(type);
  const bodyMeta = metadataOf(body);

  const rv = bodyMeta['resourceVersion'];
  if (rv !== undefined && rv !== '' && rv !== oldMeta['resourceVersion'])
    throw ApiErrors.staleResourceVersion(gr, name);
  const uid = bodyMeta['uid'];
  if (uid !== undefined && uid !== '' && uid !== oldMeta['uid']) {
    throw ApiErrors.conflict(
      gr,
      name,
      `Precondition failed: UID in precondition: ${String(uid)}, UID in object meta: ${String(oldMeta['uid'])}`,
    );
  }

  let obj: JsonObject;
  if (request.subresource === 'status') {
    obj = clone(old);
    if (body['status'] === undefined) delete obj['status'];
    else obj['status'] = body['status'];
  } else {
    obj = body;
    if (type.statusSubresource) {
      if (old['status'] === undefined) delete obj['status'];
      else obj['status'] = clone(old['status']);
    }
  }
  const meta = metadataOf(obj);
  for (const key of [
    'uid',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'generation',
    'namespace',
    'name',
  ]) {
    if (oldMeta[key] === undefined) delete meta[key];
    else meta[key] = oldMeta[key]!;
  }
  meta['resourceVersion'] = oldMeta['resourceVersion']!;
  delete meta['selfLink'];
  delete meta['generateName'];
  if (oldMeta['generateName'] !== undefined) meta['generateName'] = oldMeta['generateName'];

  type.behaviour.prepare?.(obj, old);
  pruneUnknown(request, obj);
  applyDefaults(type, obj);
  rejectInvalid(type, obj, validate(type, obj, old));

  const after = collectFieldValues(obj, type.shape);
  const entries =
    mode.operation === 'Apply'
      ? retainExisting(mode.entries, after)
      : trackUpdate(
          mode.entries,
          collectFieldValues(old, type.shape),
          after,
          managerName(request.fieldManager, request.userAgent),
          request.subresource,
          apiVersionOf(type),
        );
  meta['managedFields'] = renderManagedFields(entries);
  if (type.hasGeneration) {
    const generation = typeof oldMeta['generation'] === 'number' ? oldMeta['generation'] : 1;
    meta['generation'] = specChanged(type, old, obj) ? generation + 1 : generation;
  }

  if (sameContent(old, obj)) return { code: 200, object: old };
  if (request.dryRun) return { code: 200, object: obj };
  if (meta['deletionTimestamp'] !== undefined && !deletionBlocked(type, obj)) {
    return { code: 200, object: state.present(type, removeObject(state, type, obj)) };
  }
  return { code: 200, object: state.present(type, persist(state, type, obj)) };
}
