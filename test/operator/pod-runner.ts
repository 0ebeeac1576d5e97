// Runs a rendered Deployment's pod as local processes, the way a kubelet would run its containers: the
// init containers one after another to completion, then the main container (`node cli/ledgerhub.ts`
// with the container's args), env and volumes from the pod spec (pod-env.ts). Container ports are
// mapped to free host ports (several pods share this host); once /ready answers, the Deployment's
// status is set the way the Deployment controller would.
import { join } from 'node:path';
import type { FakeKubeApiServer } from '../support/kube-apiserver/index.ts';
import { freePort } from '../support/local-services.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { waitFor } from '../support/wait.ts';
import type { Json } from './operator-fixture.ts';
import { containerEnvironment, materializeVolumes, type ObjectSource } from './pod-env.ts';

export interface LocalPod {
  name: string;
  deployment: string;
  process: RoleProcess;
  /** Host port of the container's `http` port. */
  port: number | undefined;
  stop(): Promise<void>;
}

export function objectSource(kube: FakeKubeApiServer, namespace: string): ObjectSource {
  return {
    configMap: (name) => (kube.get('v1', 'ConfigMap', namespace, name) as Json)?.data,
    secret(name) {
      const secret = kube.get('v1', 'Secret', namespace, name) as Json;
      if (!secret) return undefined;
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [
          k,
          Buffer.from(String(v), 'base64').toString('utf8'),
        ]),
      );
    },
  };
}

const INIT_TIMEOUT_MS = 60_000;

/** Starts one replica of a Deployment; resolves once its main container has started. */
export async function startPod(
  kube: FakeKubeApiServer,
  namespace: string,
  deploymentName: string,
  root: string,
): Promise<LocalPod> {
  const deployment = kube.get('apps/v1', 'Deployment', namespace, deploymentName) as Json;
  if (!deployment) throw new Error(`Deployment ${deploymentName} not found`);
  const pod = deployment.spec.template.spec;
  const podName = `${deploymentName}-local`;
  const source = objectSource(kube, namespace);
  const dirs = materializeVolumes(pod, source, join(root, podName));
  const processEnv = (container: Json, hostPorts: Record<string, number>) => {
    const { env, args, ports } = containerEnvironment(container, source, dirs);
    if (ports['http'] !== undefined && hostPorts['http'] !== undefined)
      env['PORT'] = String(hostPorts['http']);
    return { env: { ...env, HOSTNAME: podName, TMPDIR: dirs['tmp'] ?? root }, args };
  };
  for (const init of pod.initContainers ?? []) {
    const { env, args } = processEnv(init, {});
    const p = startRole(args[0] ?? '', env, args.slice(1));
    const timer = setTimeout(() => p.kill('SIGKILL'), INIT_TIMEOUT_MS);
    const { code } = await p.exited;
    clearTimeout(timer);
    if (code !== 0) {
      throw new Error(`init container ${init.name} of ${podName} exited ${code}: ${p.stderr.join('\n')}`);
    }
  }
  const main = pod.containers[0];
  const hostPorts = { http: await freePort() };
  const { env, args } = processEnv(main, hostPorts);
  const process = startRole(args[0] ?? '', env, args.slice(1));
  return {
    name: podName,
    deployment: deploymentName,
    process,
    port: main.ports?.length ? hostPorts.http : undefined,
    async stop() {
      if (process.child.exitCode !== null || process.child.signalCode !== null) return;
      process.kill('SIGTERM');
      const timer = setTimeout(() => process.kill('SIGKILL'), 15_000);
      await process.exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the pod answers its readiness probe, then marks its Deployment available. */
export async function markAvailableWhenReady(
  kube: FakeKubeApiServer,
  namespace: string,
  pod: LocalPod,
): Promise<void> {
  const deployment = kube.get('apps/v1', 'Deployment', namespace, pod.deployment) as Json;
  const path = deployment.spec.template.spec.containers[0].readinessProbe?.httpGet?.path ?? '/ready';
  await waitFor(
    `${pod.name} to answer ${path}`,
    async () => {
      if (pod.process.child.exitCode !== null) {
        throw new Error(`${pod.name} exited ${pod.process.child.exitCode}: ${pod.process.stderr.join('\n')}`);
      }
      const res = await fetch(`http://127.0.0.1:${pod.port}${path}`).catch(() => undefined);
      return res?.status === 200 || undefined;
    },
    60_000,
    100,
  );
  kube.setStatus('apps/v1', 'Deployment', namespace, pod.deployment, {
    observedGeneration: deployment.metadata.generation,
    replicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
    updatedReplicas: 1,
  });
}
