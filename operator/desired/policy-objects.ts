// Everything one AuditPolicy owns, as the objects to server-side apply: the role ConfigMap, the forwarder's
// sinks ConfigMap, Deployments (worker, forwarder, api, sweeper), the API Service and the CronJobs
// (retention, export, verify). Pure: the same inputs give the same objects.
import type { ForwarderSinkEntry } from '../../ledger/sinks/sinks-file.ts';
import type { SecretKeyRef } from '../../ledger/sinks/spec.ts';
import type { AuditPolicySpec } from '../api/audit-policy.ts';
import { API_VERSION, AUDIT_POLICY } from '../api/group.ts';
import type { KubeObject, OwnerReference } from '../kube/resources.ts';
import { contentHash } from './checksum.ts';
import {
  ANNOTATION_CHECKSUM,
  type Component,
  type DeployedComponent,
  objectName,
  ownedLabels,
  type ScheduledComponent,
  selectorLabels,
} from './names.ts';
import { container, podSpec, resourcesFor, SINKS_MOUNT, SINKS_VOLUME } from './pod-spec.ts';
import { EXPORT_DIR, policyEnv, type Role, roleConfigs, SINKS_FILE } from './role-env.ts';
import { refKey, roleSecretInputs, type SecretInput, sinkSecretRefs } from './secret-inputs.ts';

type Json = Record<string, unknown>;

export interface PolicyRef {
  name: string;
  namespace: string;
  uid: string;
}

export interface PolicyObjectInputs {
  policy: PolicyRef;
  spec: AuditPolicySpec;
  image: string;
  /** The sinks the forwarder runs (resolved, valid, with their Secrets present), ordered by name. */
  sinks: ForwarderSinkEntry[];
  /** Content hash of every Secret key the policy and its sinks refer to, by `secret/key`. */
  secretHashes: ReadonlyMap<string, string>;
}

/** Which components a spec runs. */
export function runningComponents(spec: AuditPolicySpec): {
  deployed: DeployedComponent[];
  scheduled: ScheduledComponent[];
} {
  const deployed: DeployedComponent[] = ['worker'];
  if (spec.sinks.length > 0) deployed.push('forwarder');
  if (spec.api.enabled) deployed.push('api');
  if (spec.integrity.sweeper.enabled) deployed.push('sweeper');
  const scheduled: ScheduledComponent[] = ['retention'];
  if (spec.export) scheduled.push('export');
  scheduled.push('verify');
  return { deployed, scheduled };
}

export function ownerReference(policy: PolicyRef): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: AUDIT_POLICY.kind,
    name: policy.name,
    uid: policy.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The sinks file the forwarder reads (ledger/sinks/sinks-file.ts). */
export function sinksFileText(sinks: ForwarderSinkEntry[]): string {
  return `${JSON.stringify({ sinks }, null, 2)}\n`;
}

const REPLICAS: Record<DeployedComponent, (s: AuditPolicySpec) => number> = {
  worker: (s) => s.ingestion.replicas,
  forwarder: (s) => s.forwarder.replicas,
  api: (s) => s.api.replicas,
  sweeper: () => 1,
};

const RESOURCES: Record<Role, (s: AuditPolicySpec) => AuditPolicySpec['ingestion']['resources']> = {
  worker: (s) => s.ingestion.resources,
  forwarder: (s) => s.forwarder.resources,
  api: (s) => s.api.resources,
  sweeper: (s) => s.integrity.sweeper.resources,
  retention: () => undefined,
  export: () => undefined,
  verify: () => undefined,
  migrate: () => undefined,
};

const SCHEDULES: Record<ScheduledComponent, (s: AuditPolicySpec) => string> = {
  retention: (s) => s.retention.schedule,
  export: (s) => s.export?.schedule ?? '',
  verify: (s) => s.integrity.verifySchedule,
};

export function replicasOf(spec: AuditPolicySpec, component: DeployedComponent): number {
  return REPLICAS[component](spec);
}

export function scheduleOf(spec: AuditPolicySpec, component: ScheduledComponent): string {
  return SCHEDULES[component](spec);
}

export function policyObjects(inputs: PolicyObjectInputs): KubeObject[] {
  const { policy, spec } = inputs;
  const { deployed, scheduled } = runningComponents(spec);
  const roles: Role[] = [...deployed, ...scheduled, 'migrate'];
  const env = policyEnv(roleConfigs(spec), roles);
  const sinksText = sinksFileText(inputs.sinks);
  const owner = ownerReference(policy);
  const meta = (component: Component, annotations?: Record<string, string>) => ({
    name: objectName(policy.name, component),
    namespace: policy.namespace,
    labels: ownedLabels(policy.name, component),
    ...(annotations ? { annotations } : {}),
    ownerReferences: [owner],
  });

  const migrateSecrets = roleSecretInputs(spec, 'migrate');
  /** The pod of one role: its container, the migrate init container for long-running roles. */
  const pod = (role: Role, restartPolicy?: 'Never') => {
    const secrets = roleSecretInputs(spec, role);
    const sinkRefs = role === 'forwarder' ? inputs.sinks.flatMap((s) => sinkSecretRefs(s.spec)) : [];
    const secretFiles: SecretKeyRef[] = [
      ...secrets.filter((s) => s.file).map((s) => s.ref),
      ...(restartPolicy ? [] : migrateSecrets.filter((s) => s.file).map((s) => s.ref)),
      ...sinkRefs,
    ];
    const secretVolume = secretFiles.length > 0;
    const mounts: Json[] = [];
    const volumes: Json[] = [];
    if (role === 'forwarder') {
      mounts.push(SINKS_MOUNT);
      volumes.push(SINKS_VOLUME(policy.name));
    }
    const volume = role === 'export' ? spec.export?.destination.volume : undefined;
    if (volume) {
      mounts.push({ name: 'export', mountPath: EXPORT_DIR });
      volumes.push({ name: 'export', persistentVolumeClaim: { claimName: volume.claimName } });
    }
    const main = container({
      policy: policy.name,
      role,
      image: inputs.image,
      ownEnv: env.own[role],
      secrets,
      resources: resourcesFor(role, RESOURCES[role](spec)),
      secretVolume,
      mounts,
    });
    const init = restartPolicy
      ? []
      : [
          container(
            {
              policy: policy.name,
              role: 'migrate',
              image: inputs.image,
              ownEnv: env.own.migrate,
              secrets: migrateSecrets,
              resources: resourcesFor('migrate', undefined),
              secretVolume,
            },
            'migrate',
          ),
        ];
    const checksum = contentHash({
      env: env.rendered[role],
      migrate: restartPolicy ? undefined : env.rendered.migrate,
      secrets: [...secrets, ...(restartPolicy ? [] : migrateSecrets)].map((s: SecretInput) => [
        s.env,
        inputs.secretHashes.get(refKey(s.ref)) ?? '',
      ]),
      sinks: role === 'forwarder' ? sinksText : undefined,
      sinkSecrets: sinkRefs.map((r) => inputs.secretHashes.get(refKey(r)) ?? ''),
    });
    return {
      checksum,
      spec: podSpec({
        containers: [main],
        initContainers: init,
        secretFiles,
        extraVolumes: volumes,
        restartPolicy,
        terminationGracePeriodSeconds: restartPolicy ? undefined : 45,
      }),
    };
  };

  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('config'), data: env.shared },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('sinks'), data: { [SINKS_FILE]: sinksText } },
  ];
  for (const component of deployed) {
    const p = pod(component);
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(component),
      spec: {
        replicas: REPLICAS[component](spec),
        revisionHistoryLimit: 3,
        selector: { matchLabels: selectorLabels(policy.name, component) },
        template: {
          metadata: {
            labels: ownedLabels(policy.name, component),
            annotations: { [ANNOTATION_CHECKSUM]: p.checksum },
          },
          spec: p.spec,
        },
      },
    });
  }
  if (deployed.includes('api')) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('api'),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(policy.name, 'api'),
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      },
    });
  }
  for (const component of scheduled) {
    const p = pod(component, 'Never');
    objects.push({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta(component),
      spec: {
        schedule: SCHEDULES[component](spec),
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: ownedLabels(policy.name, component) },
          spec: {
            backoffLimit: 2,
            template: {
              metadata: {
                labels: ownedLabels(policy.name, component),
                annotations: { [ANNOTATION_CHECKSUM]: p.checksum },
              },
              spec: p.spec,
            },
          },
        },
      },
    });
  }
  return objects;
}
