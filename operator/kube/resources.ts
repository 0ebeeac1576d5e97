// The Kubernetes resources the operator reads and writes, and their REST paths. Objects are plain JSON
// (what the API server sends), typed only as far as the operator looks into them.
import { API_VERSION, AUDIT_POLICY, AUDIT_SINK } from '../api/group.ts';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
}

export const RESOURCES = {
  auditPolicy: { apiVersion: API_VERSION, kind: AUDIT_POLICY.kind, plural: AUDIT_POLICY.plural },
  auditSink: { apiVersion: API_VERSION, kind: AUDIT_SINK.kind, plural: AUDIT_SINK.plural },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  event: { apiVersion: 'v1', kind: 'Event', plural: 'events' },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  cronJob: { apiVersion: 'batch/v1', kind: 'CronJob', plural: 'cronjobs' },
  job: { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
  lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
} as const satisfies Record<string, ResourceType>;

/** Every kind here is namespaced. `namespace` undefined means all namespaces (lists and watches). */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  return namespace ? `${root}/namespaces/${namespace}/${type.plural}` : `${root}/${type.plural}`;
}

export function objectPath(
  type: ResourceType,
  namespace: string,
  name: string,
  subresource?: 'status',
): string {
  const base = `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${base}/${subresource}` : base;
}

export function resourceOf(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): ResourceType {
  const found = Object.values(RESOURCES).find((r) => r.apiVersion === obj.apiVersion && r.kind === obj.kind);
  if (!found) throw new Error(`the operator does not handle ${obj.kind} (${obj.apiVersion})`);
  return found;
}
