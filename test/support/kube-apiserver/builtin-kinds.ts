// The built-in resources the fake serves (the kinds the ledgerhub operator reads and writes), with their
// scope, names, subresources and kind-specific defaulting, validation and columns.
import { builtinColumns } from './builtin-columns.ts';
import {
  validateConfigMap,
  validateCoreEvent,
  validateCronJob,
  validateDeployment,
  validateEventsV1,
  validateJob,
  validateLease,
  validateSecret,
  validateService,
} from './builtin-validation.ts';
import { defaultCrd, validateCrd } from './crd-registration.ts';
import { isObject, type JsonObject, objectAt } from './json-value.ts';
import { type NameRule, normalizeMicroTime } from './object-meta.ts';
import type { BuiltinBehaviour, ResourceType } from './resource-types.ts';
import { BuiltinShape } from './shape.ts';
import {
  defaultCronJob,
  defaultDeployment,
  defaultJob,
  defaultNamespace,
  defaultSecret,
  defaultService,
  generateJobSelector,
} from './workload-defaults.ts';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface BuiltinSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced?: boolean;
  nameRule?: NameRule;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  statusSubresource?: boolean;
  hasGeneration?: boolean;
  allowUnconditionalUpdate?: boolean;
  returnDeletedObject?: boolean;
  behaviour?: BuiltinBehaviour;
}

function builtin(spec: BuiltinSpec): ResourceType {
  return {
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    namespaced: spec.namespaced ?? true,
    nameRule: spec.nameRule ?? 'subdomain',
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    verbs: spec.verbs ?? ALL_VERBS,
    storageVersion: spec.version,
    statusSubresource: spec.statusSubresource ?? false,
    hasGeneration: spec.hasGeneration ?? false,
    allowUnconditionalUpdate: spec.allowUnconditionalUpdate ?? true,
    returnDeletedObject: spec.returnDeletedObject ?? false,
    origin: 'builtin',
    shape: new BuiltinShape(),
    printerColumns: [],
    selectableFields: [],
    behaviour: { columns: builtinColumns(spec.group, spec.kind), ...spec.behaviour },
  };
}

/** Secret.stringData is write-only: it is folded into data (base64) and never stored. */
function foldStringData(obj: JsonObject): void {
  const stringData = obj['stringData'];
  if (isObject(stringData)) {
    const data = objectAt(obj, 'data');
    for (const [key, value] of Object.entries(stringData)) {
      data[key] = Buffer.from(String(value), 'utf8').toString('base64');
    }
  }
  delete obj['stringData'];
}

/** A ClusterIP allocator over 10.96.0.0/16, like the apiserver's service IP range. */
function clusterIpAllocator(): (obj: JsonObject, old: JsonObject | undefined) => void {
  let next = 10;
  return (obj, old) => {
    const spec = objectAt(obj, 'spec');
    if (old) {
      const oldSpec = isObject(old['spec']) ? old['spec'] : {};
      for (const key of ['clusterIP', 'clusterIPs']) {
        if (spec[key] === undefined && oldSpec[key] !== undefined) spec[key] = oldSpec[key]!;
      }
      return;
    }
    if (spec['type'] === 'ExternalName') return;
    if (spec['clusterIP'] === undefined || spec['clusterIP'] === '') {
      const n = next++;
      spec['clusterIP'] = `10.96.${Math.floor(n / 250)}.${n % 250}`;
    }
    if (spec['clusterIPs'] === undefined) spec['clusterIPs'] = [spec['clusterIP']!];
  };
}

function normalizeLeaseTimes(obj: JsonObject): void {
  const spec = obj['spec'];
  if (!isObject(spec)) return;
  for (const key of ['acquireTime', 'renewTime']) {
    const normalized = normalizeMicroTime(spec[key]);
    if (normalized !== undefined) spec[key] = normalized;
  }
}

function normalizeEventTime(obj: JsonObject): void {
  const normalized = normalizeMicroTime(obj['eventTime']);
  if (normalized !== undefined) obj['eventTime'] = normalized;
}

/** Fresh built-in types for one server (the ClusterIP allocator is per server). */
export function builtinResourceTypes(): ResourceType[] {
  return [
    builtin({
      group: '',
      version: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
      namespaced: false,
      nameRule: 'label',
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      statusSubresource: true,
      behaviour: { applyDefaults: defaultNamespace },
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      shortNames: ['cm'],
      behaviour: { validate: validateConfigMap },
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'Secret',
      plural: 'secrets',
      behaviour: { prepare: foldStringData, applyDefaults: defaultSecret, validate: validateSecret },
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'Service',
      plural: 'services',
      nameRule: 'dns1035',
      shortNames: ['svc'],
      categories: ['all'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      statusSubresource: true,
      returnDeletedObject: true,
      behaviour: { prepare: clusterIpAllocator(), applyDefaults: defaultService, validate: validateService },
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'ServiceAccount',
      plural: 'serviceaccounts',
      shortNames: ['sa'],
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      shortNames: ['ev'],
      behaviour: { validate: validateCoreEvent },
    }),
    builtin({
      group: 'events.k8s.io',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      shortNames: ['ev'],
      behaviour: { prepare: normalizeEventTime, validate: validateEventsV1 },
    }),
    builtin({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      plural: 'deployments',
      shortNames: ['deploy'],
      categories: ['all'],
      statusSubresource: true,
      hasGeneration: true,
      behaviour: { applyDefaults: defaultDeployment, validate: validateDeployment },
    }),
    builtin({
      group: 'batch',
      version: 'v1',
      kind: 'Job',
      plural: 'jobs',
      categories: ['all'],
      statusSubresource: true,
      hasGeneration: true,
      behaviour: {
        prepare: (obj, old) => {
          if (!old) generateJobSelector(obj);
        },
        applyDefaults: defaultJob,
        validate: validateJob,
      },
    }),
    builtin({
      group: 'batch',
      version: 'v1',
      kind: 'CronJob',
      plural: 'cronjobs',
      shortNames: ['cj'],
      categories: ['all'],
      statusSubresource: true,
      hasGeneration: true,
      behaviour: { applyDefaults: defaultCronJob, validate: validateCronJob },
    }),
    builtin({
      group: 'coordination.k8s.io',
      version: 'v1',
      kind: 'Lease',
      plural: 'leases',
      behaviour: { prepare: normalizeLeaseTimes, validate: validateLease },
    }),
    builtin({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      statusSubresource: true,
      hasGeneration: true,
      allowUnconditionalUpdate: false,
      behaviour: { applyDefaults: defaultCrd, validate: (obj) => validateCrd(obj) },
    }),
  ];
}
