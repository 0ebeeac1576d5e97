// Minimal OpenAPI documents, enough for kubectl: /openapi/v3 lists every group/version and each document
// declares the PATCH operations with their group-version-kind and a fieldValidation parameter, so kubectl
// leaves field validation to the server (fieldValidation=Strict) instead of validating client-side.
// /openapi/v2 is an empty document (kubectl then computes strategic patches from its compiled-in types).
import { createHash } from 'node:crypto';
import type { JsonObject } from './json-value.ts';
import type { ResourceRegistry, ResourceType } from './resource-types.ts';

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

export function openApiV2Json(): JsonObject {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} };
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function resourcePaths(type: ResourceType): [string, JsonObject][] {
  const prefix = `/${gvPath(type.group, type.version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const operation = (verb: string): JsonObject => ({
    operationId: `${verb}${type.kind}`,
    'x-kubernetes-action': verb,
    'x-kubernetes-group-version-kind': gvk,
    parameters: QUERY_PARAMETERS,
    responses: { '200': { description: 'OK' } },
  });
  const paths: [string, JsonObject][] = [
    [prefix, { get: operation('list'), post: operation('post') }],
    [
      `${prefix}/{name}`,
      {
        get: operation('get'),
        put: operation('put'),
        patch: operation('patch'),
        delete: operation('delete'),
      },
    ],
  ];
  if (type.statusSubresource) {
    paths.push([
      `${prefix}/{name}/status`,
      { get: operation('get'), put: operation('put'), patch: operation('patch') },
    ]);
  }
  return paths;
}

export function openApiV3Document(
  registry: ResourceRegistry,
  group: string,
  version: string,
): JsonObject | undefined {
  if (!registry.hasGroupVersion(group, version)) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: Object.fromEntries(registry.resourcesOf(group, version).flatMap(resourcePaths)),
    components: { schemas: {} },
  };
}

export function openApiV3Index(registry: ResourceRegistry): JsonObject {
  const paths: JsonObject = {};
  const groupVersions: [string, string][] = [
    ['', 'v1'],
    ...registry.groups().flatMap((g) => registry.versionsOf(g).map((v): [string, string] => [g, v])),
  ];
  for (const [group, version] of groupVersions) {
    const document = openApiV3Document(registry, group, version);
    if (!document) continue;
    const hash = createHash('sha256')
      .update(JSON.stringify(document))
      .digest('hex')
      .slice(0, 32)
      .toUpperCase();
    paths[gvPath(group, version)] = {
      serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}`,
    };
  }
  return { paths };
}
