// The REST endpoints of resources: maps a parsed resource path, method, query and headers onto reads,
// writes, deletes and watches; negotiates the response form (object, list, Table, partial metadata);
// parses request options (dryRun, fieldManager, fieldValidation, force, DeleteOptions) as the apiserver does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, ApiErrors } from './api-errors.ts';
import type { ClusterState } from './cluster-state.ts';
import { type CollectionReader, getObject, parseSelection } from './collection-reads.ts';
import type { FaultSwitches } from './faults.ts';
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { deleteCollection, deleteObject } from './object-deletion.ts';
import { type PatchType, patchObject } from './object-patches.ts';
import { createObject, type FieldValidation, updateObject, type WriteRequest } from './object-writes.ts';
import type { ResourcePath } from './request-path.ts';
import { apiVersionOf, type ResourceType } from './resource-types.ts';
import { buildTable, type IncludeObject, parseIncludeObject, partialObjectMetadata } from './table.ts';
import type { WatchHub } from './watch.ts';

export interface Endpoints {
  state: ClusterState;
  reader: CollectionReader;
  watches: WatchHub;
  faults: FaultSwitches;
}

/** The apiserver's request body limit (3 MiB). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;
const MAX_FIELD_MANAGER_LENGTH = 128;

type ResponseForm =
  | { form: 'object' }
  | { form: 'table'; includeObject: IncludeObject }
  | { form: 'partial' };

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function sendJson(
  res: ServerResponse,
  code: number,
  body: JsonValue,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw ApiErrors.requestEntityTooLarge(MAX_BODY_BYTES);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Picks the response form from Accept, as the apiserver's content negotiation does for JSON. */
function responseForm(accept: string | undefined, query: URLSearchParams): ResponseForm {
  if (!accept) return { form: 'object' };
  const clauses = accept.split(',').map((c) => c.trim());
  for (const clause of clauses) {
    const [type, ...params] = clause.split(';').map((p) => p.trim());
    const attrs = Object.fromEntries(
      params.map((p) => p.split('=').map((x) => x.trim()) as [string, string]),
    );
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    if (
      attrs['as'] === 'Table' &&
      attrs['g'] === 'meta.k8s.io' &&
      (attrs['v'] === 'v1' || attrs['v'] === 'v1beta1')
    ) {
      return { form: 'table', includeObject: parseIncludeObject(query.get('includeObject')) };
    }
    if (
      (attrs['as'] === 'PartialObjectMetadata' || attrs['as'] === 'PartialObjectMetadataList') &&
      attrs['g'] === 'meta.k8s.io'
    ) {
      return { form: 'partial' };
    }
    if (attrs['as'] === undefined) return { form: 'object' };
  }
  if (
    clauses.some(
      (c) => c.startsWith('application/yaml') || c.startsWith('application/vnd.kubernetes.protobuf'),
    )
  ) {
    if (!clauses.some((c) => c.startsWith('application/json') || c.startsWith('*/*'))) {
      throw ApiErrors.notAcceptable(
        'application/json, application/yaml, application/vnd.kubernetes.protobuf',
      );
    }
  }
  return { form: 'object' };
}

function writeOptions(
  type: ResourceType,
  path: ResourcePath,
  query: URLSearchParams,
  req: IncomingMessage,
  defaultValidation: FieldValidation,
): WriteRequest {
  const dryRun = query.getAll('dryRun');
  if (dryRun.some((d) => d !== 'All')) {
    throw ApiErrors.invalidOptions('CreateOptions', [
      { type: 'NotSupported', field: 'dryRun', value: dryRun, detail: 'supported values: "All"' },
    ]);
  }
  const fieldManager = query.get('fieldManager') ?? undefined;
  if (fieldManager !== undefined && fieldManager.length > MAX_FIELD_MANAGER_LENGTH) {
    throw ApiErrors.invalidOptions('CreateOptions', [
      {
        type: 'TooLong',
        field: 'fieldManager',
        detail: `may not be more than ${MAX_FIELD_MANAGER_LENGTH} bytes`,
      },
    ]);
  }
  const validation = query.get('fieldValidation');
  if (validation !== null && validation !== 'Ignore' && validation !== 'Warn' && validation !== 'Strict') {
    throw ApiErrors.badRequest(
      `fieldValidation: Invalid value: "${validation}": fieldValidation must be one of [Ignore, Warn, Strict]`,
    );
  }
  return {
    type,
    namespace: path.namespace,
    subresource: path.subresource === 'status' ? 'status' : undefined,
    dryRun: dryRun.length > 0,
    fieldManager,
    fieldValidation: (validation as FieldValidation | null) ?? defaultValidation,
    userAgent: req.headers['user-agent'],
    warnings: [],
  };
}

function warningHeaders(warnings: readonly string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

function parseBody(text: string, contentType: string): JsonValue {
  if (text.trim() === '') throw ApiErrors.badRequest('request body must not be empty');
  if (contentType === 'application/vnd.kubernetes.protobuf' || contentType === 'application/cbor') {
    throw ApiErrors.unsupportedMediaType(contentType, ['application/json', 'application/yaml']);
  }
  try {
    return (contentType === 'application/yaml' ? parseYaml(text) : JSON.parse(text)) as JsonValue;
  } catch (err) {
    throw ApiErrors.badRequest(`error decoding body: ${(err as Error).message}`);
  }
}

function render(type: ResourceType, form: ResponseForm, obj: JsonObject): JsonValue {
  if (form.form === 'table') {
    return buildTable(type, [obj], form.includeObject, {
      resourceVersion: String((obj['metadata'] as JsonObject)['resourceVersion'] ?? ''),
    });
  }
  if (form.form === 'partial') return partialObjectMetadata(obj);
  return obj;
}

function booleanParam(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw ApiErrors.badRequest(`${name}: Invalid value: "${value}": must be a boolean`);
}

function deleteOptions(query: URLSearchParams, bodyText: string): JsonObject {
  let options: JsonObject = {};
  if (bodyText.trim() !== '') {
    const parsed = JSON.parse(bodyText) as JsonValue;
    if (isObject(parsed)) options = parsed;
  }
  const policy = query.get('propagationPolicy');
  if (policy !== null) options['propagationPolicy'] = policy;
  const orphan = booleanParam(query, 'orphanDependents');
  if (orphan !== undefined) options['orphanDependents'] = orphan;
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) options['gracePeriodSeconds'] = Number(grace);
  if (query.getAll('dryRun').length > 0) options['dryRun'] = query.getAll('dryRun');
  return options;
}

export async function serveResource(
  endpoints: Endpoints,
  req: IncomingMessage,
  res: ServerResponse,
  path: ResourcePath,
  query: URLSearchParams,
): Promise<void> {
  const { state } = endpoints;
  const type = state.registry.lookup(path.group, path.version, path.resource);
  if (!type) throw ApiErrors.noRoute();
  if (path.subresource !== undefined && !(path.subresource === 'status' && type.statusSubresource))
    throw ApiErrors.noRoute();
  if (!type.namespaced && path.namespace !== undefined) throw ApiErrors.noRoute();
  const method = req.method ?? 'GET';
  const named = path.name !== undefined;
  if (type.namespaced && path.namespace === undefined && (named || method === 'POST'))
    throw ApiErrors.noRoute();
  const form = responseForm(req.headers.accept, query);
  const watching = path.watchPath || booleanParam(query, 'watch') === true;

  if (method === 'GET' && watching) {
    const selection = parseSelection(type, query);
    if (named) selection.fields.push({ field: 'metadata.name', op: '=', value: path.name! });
    const timeout = query.get('timeoutSeconds');
    endpoints.watches.open(res, {
      type,
      namespace: path.namespace,
      selection,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      allowBookmarks: booleanParam(query, 'allowWatchBookmarks') === true,
      timeoutSeconds: timeout === null ? undefined : Number(timeout),
      sendInitialEvents: booleanParam(query, 'sendInitialEvents') === true,
      render: (obj) => render(type, form, state.present(type, obj)),
      forcedExpiry: endpoints.faults.takeExpiry(),
    });
    return;
  }

  switch (method) {
    case 'GET': {
      if (named) {
        sendJson(res, 200, render(type, form, getObject(state, type, path.namespace, path.name!)));
        return;
      }
      const page = endpoints.reader.list(type, path.namespace, query);
      const listMeta: JsonObject = { resourceVersion: page.resourceVersion };
      if (page.continueToken) listMeta['continue'] = page.continueToken;
      if (page.remainingItemCount !== undefined) listMeta['remainingItemCount'] = page.remainingItemCount;
      if (form.form === 'table') {
        sendJson(res, 200, buildTable(type, page.items, form.includeObject, listMeta));
      } else if (form.form === 'partial') {
        sendJson(res, 200, {
          kind: 'PartialObjectMetadataList',
          apiVersion: 'meta.k8s.io/v1',
          metadata: listMeta,
          items: page.items.map(partialObjectMetadata),
        });
      } else {
        sendJson(res, 200, {
          kind: type.listKind,
          apiVersion: apiVersionOf(type),
          metadata: listMeta,
          items: page.items,
        });
      }
      return;
    }
    case 'POST': {
      if (named) throw ApiErrors.methodNotAllowed();
      const text = await readBody(req);
      const request = writeOptions(type, path, query, req, 'Warn');
      const result = createObject(state, request, parseBody(text, mediaType(req.headers['content-type'])));
      sendJson(res, result.code, render(type, form, result.object), warningHeaders(request.warnings));
      return;
    }
    case 'PUT': {
      if (!named) throw ApiErrors.methodNotAllowed();
      const text = await readBody(req);
      const request = writeOptions(type, path, query, req, 'Warn');
      const result = updateObject(
        state,
        request,
        path.name!,
        parseBody(text, mediaType(req.headers['content-type'])),
      );
      sendJson(res, result.code, render(type, form, result.object), warningHeaders(request.warnings));
      return;
    }
    case 'PATCH': {
      if (!named) throw ApiErrors.methodNotAllowed();
      const contentType = mediaType(req.headers['content-type']);
      const patchType = PATCH_TYPES[contentType];
      if (!patchType) {
        const accepted = Object.keys(PATCH_TYPES).filter(
          (t) => type.origin === 'builtin' || t !== 'application/strategic-merge-patch+json',
        );
        throw ApiErrors.unsupportedMediaType(contentType, accepted);
      }
      const text = await readBody(req);
      const request = {
        ...writeOptions(type, path, query, req, patchType === 'apply' ? 'Strict' : 'Warn'),
        patchType,
        force: booleanParam(query, 'force'),
      };
      const result = patchObject(state, request, path.name!, text);
      sendJson(res, result.code, render(type, form, result.object), warningHeaders(request.warnings));
      return;
    }
    case 'DELETE': {
      const text = await readBody(req);
      let options: JsonObject;
      try {
        options = deleteOptions(query, text);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw ApiErrors.badRequest(`error decoding DeleteOptions: ${(err as Error).message}`);
      }
      const dryRun = Array.isArray(options['dryRun']) && options['dryRun'].length > 0;
      const deleteRequest = { type, namespace: path.namespace, dryRun, options };
      if (named) {
        const result = deleteObject(state, deleteRequest, path.name!);
        const body = result.object['kind'] === 'Status' ? result.object : render(type, form, result.object);
        sendJson(res, result.code, body);
        return;
      }
      const matching = endpoints.reader.select(type, path.namespace, parseSelection(type, query));
      const items = deleteCollection(state, deleteRequest, matching);
      sendJson(res, 200, {
        kind: type.listKind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: String(state.store.revision) },
        items,
      });
      return;
    }
    default:
      throw ApiErrors.methodNotAllowed();
  }
}
