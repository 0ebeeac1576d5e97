// Discovery documents: /api (APIVersions), /apis (APIGroupList), /apis/{group} (APIGroup), the
// APIResourceList of each group/version (with status subresources), and /version. Served as plain
// (unaggregated) discovery, which kubectl and client-node fall back to.
import type { JsonObject } from './json-value.ts';
import type { ResourceRegistry, ResourceType } from './resource-types.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-ledgerhub-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDocument(registry: ResourceRegistry, group: string): JsonObject {
  const versions = registry
    .versionsOf(group)
    .map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] ?? {} };
}

export function apiGroupList(registry: ResourceRegistry): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.groups().map((g) => groupDocument(registry, g)),
  };
}

export function apiGroup(registry: ResourceRegistry, group: string): JsonObject | undefined {
  if (!registry.groups().includes(group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(registry, group) };
}

function resourceEntries(type: ResourceType): JsonObject[] {
  const main: JsonObject = {
    name: type.plural,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.verbs,
  };
  if (type.shortNames.length) main['shortNames'] = type.shortNames;
  if (type.categories.length) main['categories'] = type.categories;
  const entries = [main];
  if (type.statusSubresource) {
    entries.push({
      name: `${type.plural}/status`,
      singularName: '',
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: ['get', 'patch', 'update'],
    });
  }
  return entries;
}

export function apiResourceList(
  registry: ResourceRegistry,
  group: string,
  version: string,
): JsonObject | undefined {
  if (!registry.hasGroupVersion(group, version)) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: registry.resourcesOf(group, version).flatMap(resourceEntries),
  };
}
