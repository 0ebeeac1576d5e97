// The pod every workload of a policy runs: the image with `ledgerhub <role>` (the worker: node with its
// flags on the image's CLI path, see ledger/runtime/node-options.ts), env from the policy's
// ConfigMap plus per-role values and Secret inputs, restricted security (non-root, read-only root, no
// capabilities, RuntimeDefault seccomp), an emptyDir for /tmp, Secrets projected as files.
import { IMAGE_CLI, ROLE_NODE_FLAGS } from '../../ledger/runtime/node-options.ts';
import type { SecretKeyRef } from '../../ledger/sinks/spec.ts';
import type { Resources } from '../api/audit-policy.ts';
import { objectName } from './names.ts';
import { ROLE_ARGS, ROLE_PORTS, type Role, SECRETS_DIR, SINKS_DIR, SINKS_FILE } from './role-env.ts';
import { type SecretInput, secretEnv, uniqueRefs } from './secret-inputs.ts';

/** The image's user (see Dockerfile). */
export const RUN_AS_USER = 10001;

type Json = Record<string, unknown>;
type Quantities = { cpu?: string | number; memory?: string | number };

/** Requests and limits when the policy says nothing: memory is limited, CPU is not (no throttling). */
export const DEFAULT_RESOURCES: Record<Role, { requests: Quantities; limits: Quantities }> = {
  worker: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
  forwarder: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
  api: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  sweeper: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  retention: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  export: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1536Mi' } },
  verify: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  migrate: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
};

export function resourcesFor(role: Role, overrides: Resources | undefined): Json {
  const base = DEFAULT_RESOURCES[role];
  return {
    requests: { ...base.requests, ...overrides?.requests },
    limits: { ...base.limits, ...overrides?.limits },
  };
}

const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

export const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: 'RuntimeDefault' },
};

export interface ContainerInputs {
  policy: string;
  role: Role;
  image: string;
  ownEnv: Record<string, string>;
  secrets: SecretInput[];
  resources: Json;
  /** The pod has a Secret volume (mounted read-only at SECRETS_DIR). */
  secretVolume: boolean;
  /** Extra mounts (the sinks file, the export volume). */
  mounts?: Json[];
}

export function container(c: ContainerInputs, name: string = c.role): Json {
  const port = (ROLE_PORTS as Record<string, number | undefined>)[c.role];
  // node flags NODE_OPTIONS refuses: node runs the CLI itself instead of the image's entrypoint
  const nodeFlags = ROLE_NODE_FLAGS[c.role];
  const env = [
    ...Object.entries(c.ownEnv)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([n, value]) => ({ name: n, value })),
    ...secretEnv(c.secrets),
  ];
  const mounts = [
    { name: 'tmp', mountPath: '/tmp' },
    ...(c.secretVolume ? [{ name: 'secrets', mountPath: SECRETS_DIR, readOnly: true }] : []),
    ...(c.mounts ?? []),
  ];
  return {
    name,
    image: c.image,
    imagePullPolicy: 'IfNotPresent',
    ...(nodeFlags ? { command: ['node', ...nodeFlags, IMAGE_CLI] } : {}),
    args: ROLE_ARGS[c.role],
    envFrom: [{ configMapRef: { name: objectName(c.policy, 'config') } }],
    ...(env.length ? { env } : {}),
    ...(port
      ? {
          ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
          livenessProbe: probe('/health', 6),
          readinessProbe: probe('/ready', 3),
        }
      : {}),
    resources: c.resources,
    securityContext: CONTAINER_SECURITY,
    volumeMounts: mounts,
  };
}

function probe(path: string, failureThreshold: number): Json {
  return { httpGet: { path, port: 'http' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold };
}

export interface PodInputs {
  containers: Json[];
  initContainers?: Json[];
  /** Secret keys mounted as files: projected into one read-only volume. */
  secretFiles: SecretKeyRef[];
  extraVolumes?: Json[];
  restartPolicy?: 'Always' | 'Never';
  terminationGracePeriodSeconds?: number;
}

export function podSpec(p: PodInputs): Json {
  const files = uniqueRefs(p.secretFiles);
  const byName = new Map<string, { key: string; path: string }[]>();
  for (const ref of files) {
    const items = byName.get(ref.name) ?? [];
    items.push({ key: ref.key, path: `${ref.name}/${ref.key}` });
    byName.set(ref.name, items);
  }
  const volumes: Json[] = [
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ...(files.length
      ? [
          {
            name: 'secrets',
            projected: {
              defaultMode: 0o440,
              sources: [...byName].map(([name, items]) => ({ secret: { name, items } })),
            },
          },
        ]
      : []),
    ...(p.extraVolumes ?? []),
  ];
  return {
    ...(p.restartPolicy ? { restartPolicy: p.restartPolicy } : {}),
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: POD_SECURITY,
    ...(p.terminationGracePeriodSeconds
      ? { terminationGracePeriodSeconds: p.terminationGracePeriodSeconds }
      : {}),
    ...(p.initContainers?.length ? { initContainers: p.initContainers } : {}),
    containers: p.containers,
    volumes,
  };
}

export const SINKS_VOLUME = (policy: string): Json => ({
  name: 'sinks',
  configMap: { name: objectName(policy, 'sinks'), items: [{ key: SINKS_FILE, path: SINKS_FILE }] },
});
export const SINKS_MOUNT: Json = { name: 'sinks', mountPath: SINKS_DIR, readOnly: true };
