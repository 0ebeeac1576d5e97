// An operator under test: a fake Kubernetes API server with the ledgerhub CRDs installed, the operator
// running in-process against it, and shortcuts to create Secrets, sinks and policies in a namespace,
// read their status, play the Deployment controller (availableReplicas) and wait on conditions.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../ledger/config/keys.ts';
import { operatorKeys } from '../../ledger/config/operator.ts';
import { silentLogger } from '../../ledger/runtime/log.ts';
import type { AuditSinkSpecInput } from '../../ledger/sinks/spec.ts';
import type { AuditPolicySpecInput } from '../../operator/api/audit-policy.ts';
import { type OperatorHandle, startOperator } from '../../operator/main.ts';
import {
  applyCrdYaml,
  type FakeKubeApiServer,
  startFakeKubeApiServer,
} from '../support/kube-apiserver/index.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
export const GROUP_VERSION = 'ledgerhub.io/v1alpha1';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary Kubernetes JSON
export type Json = any;

export function installCrds(kube: FakeKubeApiServer): void {
  for (const file of ['auditpolicies.yaml', 'auditsinks.yaml']) {
    applyCrdYaml(kube, readFileSync(`${ROOT}crds/${file}`, 'utf8'));
  }
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

export interface OperatorFixture {
  kube: FakeKubeApiServer;
  kc: KubeConfig;
  namespace: string;
  op: OperatorHandle;
  /** Starts another operator replica (leader election) with extra env. */
  startReplica(env?: Record<string, string>): Promise<OperatorHandle>;
  secret(name: string, data: Record<string, string>, namespace?: string): void;
  deleteSecret(name: string): Promise<void>;
  sink(name: string, spec: AuditSinkSpecInput): Json;
  policy(name: string, spec: AuditPolicySpecInput, namespace?: string): Json;
  get(kind: 'AuditPolicy' | 'AuditSink', name: string, namespace?: string): Json;
  owned(apiVersion: string, kind: string, name: string, namespace?: string): Json;
  condition(
    kind: 'AuditPolicy' | 'AuditSink',
    name: string,
    type: string,
    namespace?: string,
  ): Condition | undefined;
  waitFor(
    kind: 'AuditPolicy' | 'AuditSink',
    name: string,
    type: string,
    status: string,
    reason?: string,
    namespace?: string,
  ): Promise<Condition>;
  /** Sets availableReplicas on every Deployment of a policy, as the Deployment controller would. */
  makeAvailable(policy: string, namespace?: string): void;
  /** Resolves when the operator has nothing queued or in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Operator settings for tests: fast leader election and coalescing, no probes unless asked. */
export const TEST_OPERATOR_ENV: Record<string, string> = {
  PORT: '0',
  LOG_LEVEL: 'silent',
  LEDGERHUB_OPERATOR_NAMESPACE: 'default',
  LEDGERHUB_OPERATOR_LEASE_DURATION_SECS: '3',
  LEDGERHUB_OPERATOR_RENEW_DEADLINE_SECS: '2',
  LEDGERHUB_OPERATOR_RETRY_PERIOD_SECS: '1',
  LEDGERHUB_OPERATOR_COALESCE_MS: '50',
  LEDGERHUB_OPERATOR_REQUEUE_BASE_MS: '50',
  LEDGERHUB_OPERATOR_REQUEUE_MAX_MS: '1000',
  LEDGERHUB_OPERATOR_PROBE_INTERVAL_SECS: '0',
  LEDGERHUB_WORKLOAD_IMAGE: 'ledgerhub:test',
};

export async function startOperatorFixture(env: Record<string, string> = {}): Promise<OperatorFixture> {
  const kube = await startFakeKubeApiServer();
  installCrds(kube);
  const kc = new KubeConfig();
  kc.loadFromOptions(kube.kubeConfigOptions());
  const namespace = `t-${randomBytes(3).toString('hex')}`;
  kube.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const replicas: OperatorHandle[] = [];
  const start = async (extra: Record<string, string>) => {
    const config = loadConfig('operator', operatorKeys, { ...TEST_OPERATOR_ENV, ...env, ...extra });
    const handle = await startOperator(config, { kubeConfig: kc, log: silentLogger() });
    handle.done.catch(() => {});
    replicas.push(handle);
    return handle;
  };
  const op = await start({});
  await waitFor('the operator to lead', () => op.isLeader(), 10_000);
  const get = (kind: string, name: string, ns = namespace): Json => kube.get(GROUP_VERSION, kind, ns, name);
  const condition = (kind: 'AuditPolicy' | 'AuditSink', name: string, type: string, ns = namespace) =>
    (get(kind, name, ns)?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
  return {
    kube,
    kc,
    namespace,
    op,
    startReplica: (extra = {}) => start(extra),
    secret(name, data, ns = namespace) {
      const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
      kube.upsert({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data: encoded });
    },
    async deleteSecret(name) {
      const res = await fetch(`${kube.url}/api/v1/namespaces/${namespace}/secrets/${name}`, {
        method: 'DELETE',
      });
      if (res.status !== 200) throw new Error(`deleting Secret ${name}: HTTP ${res.status}`);
    },
    sink(name, spec) {
      return kube.upsert({
        apiVersion: GROUP_VERSION,
        kind: 'AuditSink',
        metadata: { name, namespace },
        spec,
      });
    },
    policy(name, spec, ns = namespace) {
      return kube.upsert({
        apiVersion: GROUP_VERSION,
        kind: 'AuditPolicy',
        metadata: { name, namespace: ns },
        spec,
      });
    },
    get,
    owned: (apiVersion, kind, name, ns = namespace) => kube.get(apiVersion, kind, ns, name),
    condition,
    async waitFor(kind, name, type, status, reason, ns = namespace) {
      return waitFor(
        `${kind} ${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
        () => {
          const c = condition(kind, name, type, ns);
          return c && c.status === status && (reason === undefined || c.reason === reason) ? c : undefined;
        },
        15_000,
      ).catch((err: Error) => {
        const c = condition(kind, name, type, ns);
        throw new Error(`${err.message}; last seen: ${JSON.stringify(c)}`);
      });
    },
    makeAvailable(policy, ns = namespace) {
      for (const d of kube.list('apps/v1', 'Deployment', ns) as Json[]) {
        if (d.metadata.labels?.['ledgerhub.io/policy'] !== policy) continue;
        const replicas = d.spec.replicas ?? 1;
        kube.setStatus('apps/v1', 'Deployment', ns, d.metadata.name, {
          replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          updatedReplicas: replicas,
          observedGeneration: d.metadata.generation,
        });
      }
    },
    idle: () => op.controller.queue.idle(),
    async stop() {
      for (const r of replicas) await r.stop();
      await kube.stop();
    },
  };
}

/** A development-mode policy spec whose ledger is in Secret `secret` (keys redis, postgres, hmac). */
export function basicPolicy(
  secret = 'ledger',
  overrides: Partial<AuditPolicySpecInput> = {},
): AuditPolicySpecInput {
  return {
    mode: 'development',
    ledger: {
      redisUrl: { name: secret, key: 'redis' },
      postgresUrl: { name: secret, key: 'postgres' },
      hmacKey: { name: secret, key: 'hmac' },
    },
    ...overrides,
  };
}

/** Secret data for a ledger; each database name is a distinct ledger (no Conflict). */
export function ledgerSecret(database: string, redis = 'redis://127.0.0.1:6379'): Record<string, string> {
  return {
    redis,
    postgres: `postgres://ledgerhub@127.0.0.1:5432/${database}`,
    hmac: 'ab'.repeat(32),
  };
}

export function webhookSink(endpoint = 'https://siem.example.com/hooks'): AuditSinkSpecInput {
  return { type: 'webhook', webhook: { endpoint, signingSecret: { name: 'hook', key: 'secret' } } };
}

export const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
