// The patch endpoints: option checks (fieldManager for apply, force only for apply), JSON, merge and
// strategic merge patches applied to the served object, and server-side apply, all then admitted through
// the same update (or create) pipeline as a PUT.
import { parse as parseYaml } from 'yaml';
import { ApiError, ApiErrors } from './api-errors.ts';
import { serverSideApply } from './apply.ts';
import type { ClusterState } from './cluster-state.ts';
import { type FieldError, forbidden, required } from './field-errors.ts';
import { applyJsonPatch, PatchApplyError } from './json-patch.ts';
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { parseManagedFields } from './managed-fields.ts';
import { applyMergePatch } from './merge-patch.ts';
import {
  admitCreate,
  admitUpdate,
  checkNamespace,
  decodeObject,
  metadataOf,
  type UpdateMode,
  type WriteRequest,
  type WriteResult,
} from './object-writes.ts';
import { apiVersionOf, groupResourceOf } from './resource-types.ts';
import { pruneObjectMeta, pruneUnknownFields } from './schema-pruning.ts';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** What a manager may own through this endpoint: status only via /status, never status via the main resource. */
function limitToEndpoint(request: WriteRequest, obj: JsonObject): JsonObject {
  if (request.subresource === 'status') {
    const limited: JsonObject = {
      apiVersion: obj['apiVersion'] ?? null,
      kind: obj['kind'] ?? null,
      metadata: metadataOf(obj),
    };
    if (obj['status'] !== undefined) limited['status'] = obj['status'];
    return limited;
  }
  if (request.type.statusSubresource) delete obj['status'];
  return obj;
}

export interface PatchRequest extends WriteRequest {
  patchType: PatchType;
  force: boolean | undefined;
}

const PATCH_MEDIA_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
];

function checkPatchOptions(request: PatchRequest): void {
  const errors: FieldError[] = [];
  if (request.patchType === 'apply' && !request.fieldManager) {
    errors.push(required('fieldManager', 'is required for apply patch'));
  }
  if (request.patchType !== 'apply' && request.force !== undefined) {
    errors.push(forbidden('force', 'may not be specified for non-apply patch'));
  }
  if (errors.length) throw ApiErrors.invalidOptions('PatchOptions', errors);
  if (request.patchType === 'strategic' && request.type.origin === 'custom') {
    throw ApiErrors.unsupportedMediaType('application/strategic-merge-patch+json', PATCH_MEDIA_TYPES);
  }
}

function parsePatchBody(patchType: PatchType, text: string): JsonValue {
  try {
    return (patchType === 'apply' ? parseYaml(text) : JSON.parse(text)) as JsonValue;
  } catch (err) {
    throw ApiErrors.badRequest(`error decoding patch: ${(err as Error).message}`);
  }
}

export function patchObject(
  state: ClusterState,
  request: PatchRequest,
  name: string,
  text: string,
): WriteResult {
  checkPatchOptions(request);
  const patch = parsePatchBody(request.patchType, text);
  if (request.patchType === 'apply') return applyObject(state, request, name, patch);
  const { type } = request;
  const stored = state.stored(type, request.namespace, name);
  if (!stored) throw ApiErrors.notFound(groupResourceOf(type), name);
  const current = state.present(type, stored);
  let patched: JsonValue;
  try {
    if (request.patchType === 'json') patched = applyJsonPatch(current, patch);
    else if (request.patchType === 'merge') patched = applyMergePatch(current, patch);
    else patched = applyStrategicMergePatch(current, patch, type.shape);
  } catch (err) {
    if (err instanceof PatchApplyError) throw new ApiError(422, 'Invalid', err.message);
    throw err;
  }
  if (!isObject(patched)) throw new ApiError(422, 'Invalid', 'the patch did not produce an object');
  const obj = decodeObject(patched, type);
  const meta = metadataOf(obj);
  if (meta['name'] !== name) {
    throw ApiErrors.badRequest(
      `the name of the object (${String(meta['name'])}) does not match the name on the URL (${name})`,
    );
  }
  checkNamespace(request, obj);
  const entries = parseManagedFields(meta['managedFields'] ?? metadataOf(stored)['managedFields']);
  return admitUpdate(state, request, stored, obj, { operation: 'Update', entries });
}

function applyObject(
  state: ClusterState,
  request: PatchRequest,
  name: string,
  patch: JsonValue,
): WriteResult {
  const { type } = request;
  const applied = decodeObject(patch, type);
  const appliedMeta = metadataOf(applied);
  if (appliedMeta['name'] !== name) {
    throw ApiErrors.badRequest(
      `the name of the object (${String(appliedMeta['name'] ?? '')}) does not match the name on the URL (${name})`,
    );
  }
  checkNamespace(request, applied);
  const pruned = type.schema ? pruneUnknownFields(applied, type.schema) : pruneObjectMeta(applied);
  if (pruned.length > 0 && request.fieldValidation !== 'Ignore') {
    if (request.fieldValidation === 'Warn')
      request.warnings.push(...pruned.map((p) => `unknown field "${p}"`));
    else {
      throw ApiErrors.badRequest(
        `failed to create typed patch object (${apiVersionOf(type)}, Kind=${type.kind}): ${pruned.map((p) => `.${p}: field not declared in schema`).join(', ')}`,
      );
    }
  }
  const limited = limitToEndpoint(request, applied);
  const stored = state.stored(type, request.namespace, name);
  const live = stored ? state.present(type, stored) : undefined;
  const outcome = serverSideApply({
    live,
    applied: limited,
    manager: request.fieldManager!,
    subresource: request.subresource,
    apiVersion: apiVersionOf(type),
    force: request.force === true,
    shape: type.shape,
    entries: parseManagedFields(live ? metadataOf(live)['managedFields'] : undefined),
  });
  const mode: UpdateMode = { operation: 'Apply', entries: outcome.entries };
  if (!stored) {
    if (request.subresource === 'status') throw ApiErrors.notFound(groupResourceOf(type), name);
    return admitCreate(state, request, outcome.object, outcome.entries, 'Apply');
  }
  metadataOf(outcome.object)['resourceVersion'] =
    appliedMeta['resourceVersion'] ?? metadataOf(live!)['resourceVersion']!;
  return admitUpdate(state, { ...request, fieldValidation: 'Ignore' }, stored, outcome.object, mode);
}
