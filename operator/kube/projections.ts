// What the watch caches keep of each object: only what a reconcile reads. Server bookkeeping
// (managedFields, kubectl's last-applied copy) is dropped everywhere; of the objects the operator owns
// it keeps identity, labels, its applied-hash annotation, owners and the status it reports from.
import { ANNOTATION_APPLIED } from '../desired/names.ts';
import type { KubeObject, ObjectMeta } from './resources.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function meta(m: ObjectMeta, annotations: Record<string, string> | undefined): ObjectMeta {
  const out: ObjectMeta = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
  };
  if (m.generation !== undefined) out.generation = m.generation;
  if (m.creationTimestamp) out.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp) out.deletionTimestamp = m.deletionTimestamp;
  if (m.labels) out.labels = m.labels;
  if (annotations && Object.keys(annotations).length > 0) out.annotations = annotations;
  if (m.ownerReferences) out.ownerReferences = m.ownerReferences;
  if (m.finalizers) out.finalizers = m.finalizers;
  return out;
}

/** AuditPolicies and AuditSinks: everything but the bookkeeping. */
export function withoutBookkeeping(obj: KubeObject): KubeObject {
  const { [LAST_APPLIED]: _copy, ...annotations } = obj.metadata.annotations ?? {};
  return { ...obj, metadata: meta(obj.metadata, annotations) };
}

/** Secret types a policy or sink may refer to; others (Helm releases, service-account tokens) can be large. */
const REFERABLE_SECRET_TYPES = new Set([
  undefined,
  'Opaque',
  'kubernetes.io/basic-auth',
  'kubernetes.io/tls',
]);

/** Secrets: the data of the referable types (decoded on use), nothing else. */
export function secretProjection(obj: KubeObject): KubeObject {
  const data = REFERABLE_SECRET_TYPES.has(obj['type'] as string | undefined) ? (obj['data'] ?? {}) : {};
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: meta(obj.metadata, undefined), data };
}

interface OwnedStatus {
  availableReplicas?: number;
  startTime?: string;
  completionTime?: string;
  conditions?: { type: string; status: string; lastTransitionTime?: string }[];
}

/** Owned objects: identity, labels, the applied hash, owners; Deployment and Job status as reported. */
export function ownedProjection(obj: KubeObject): KubeObject {
  const hash = obj.metadata.annotations?.[ANNOTATION_APPLIED];
  const out: KubeObject = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: meta(obj.metadata, hash ? { [ANNOTATION_APPLIED]: hash } : undefined),
  };
  const status = obj['status'] as OwnedStatus | undefined;
  if (obj.kind === 'Deployment' && status)
    out['status'] = { availableReplicas: status.availableReplicas ?? 0 };
  if (obj.kind === 'Job' && status) {
    out['status'] = {
      startTime: status.startTime,
      completionTime: status.completionTime,
      conditions: status.conditions?.map((c) => ({
        type: c.type,
        status: c.status,
        lastTransitionTime: c.lastTransitionTime,
      })),
    };
  }
  return out;
}
