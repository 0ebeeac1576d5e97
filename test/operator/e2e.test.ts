// End to end without a cluster: the CRDs and the examples applied to the fake API server (with kubectl
// when installed), `ledgerhub operator` as a process reconciling them, the rendered Deployments' pods
// run as local processes (same CLI, env, args and volumes as in the pod spec), and signed events going
// from the Redis stream through the worker and the forwarder to local Splunk HEC, Elasticsearch and
// webhook receivers, with the AuditPolicy Ready and each AuditSink's status showing its deliveries.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { newToken } from '../../api/auth.ts';
import { createRedis } from '../../ledger/redis.ts';
import { encodeStreamFields, hmacKeyFromBytes } from '../../ledger/stream-codec.ts';
import {
  applyCrdYaml,
  type FakeKubeApiServer,
  startFakeKubeApiServer,
} from '../support/kube-apiserver/index.ts';
import { freePort } from '../support/local-services.ts';
import {
  type ElasticsearchReceiver,
  type SplunkHecReceiver,
  startElasticsearch,
  startSplunkHec,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/receivers/index.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { createTestDatabase, redisUrl, type TestDatabase } from '../support/test-services.ts';
import { waitFor } from '../support/wait.ts';
import { KUBECTL, type Kubectl, kubectlFor } from './kubectl.ts';
import type { Json } from './operator-fixture.ts';
import { type LocalPod, markAvailableWhenReady, startPod } from './pod-runner.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const NS = 'ledgerhub';
const example = (file: string): Json[] =>
  parseAllDocuments(readFileSync(`${ROOT}examples/${file}`, 'utf8')).map((d) => d.toJS());

let kube: FakeKubeApiServer;
let kubectl: Kubectl;
let db: TestDatabase;
let redis: Redis;
let scratch: string;
let operator: RoleProcess;
let operatorPort: number;
let hec: SplunkHecReceiver;
let es: ElasticsearchReceiver;
let hook: WebhookReceiver;
const pods: LocalPod[] = [];
const hmac = randomBytes(32);
const prefix = `e2e.${randomBytes(3).toString('hex')}`;
const hecToken = randomUUID();
const esKey = `ledgerhub:${randomBytes(8).toString('hex')}`;

/** examples/ with this machine's endpoints and credentials in place of the placeholders. */
function localizedExamples(): string {
  const secrets = example('secrets.yaml');
  const values: Record<string, Record<string, string>> = {
    'ledgerhub-ledger': {
      'redis-url': redisUrl(),
      'postgres-url': db.url,
      'hmac-key': hmac.toString('hex'),
    },
    'ledgerhub-api': { tokens: JSON.stringify([newToken('e2e', ['audit:read']).entry]) },
    'ledgerhub-checkpoint': {
      'private-key': generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    },
    'splunk-hec': { token: hecToken },
    elasticsearch: { 'api-key': esKey },
    'siem-webhook': { 'signing-secret': hook.secret },
  };
  for (const s of secrets) s.stringData = { ...s.stringData, ...values[s.metadata.name] };
  const [splunk] = example('auditsink-splunk-hec.yaml');
  splunk.spec.splunkHec.endpoint = hec.url;
  // the receiver acknowledges at once: ask for acks every half second instead of every 10 s
  splunk.spec.splunkHec.indexerAck.pollIntervalMs = 500;
  const [elastic] = example('auditsink-elasticsearch.yaml');
  elastic.spec.elasticsearch.endpoint = es.url;
  const [webhook] = example('auditsink-webhook.yaml');
  webhook.spec.webhook.endpoint = `${hook.url}/ledgerhub`;
  const [policy] = example('auditpolicy.yaml');
  // one replica of each workload on this one machine; streams of our own in the shared Redis
  policy.spec.ingestion.replicas = 1;
  policy.spec.api.replicas = 1;
  policy.spec.ledger.stream = `${prefix}.events`;
  policy.spec.ledger.dlqStream = `${prefix}.dlq`;
  return [...secrets, splunk, elastic, webhook, policy].map((d) => stringify(d)).join('---\n');
}

function event(i: number, decision: 'deny' | 'allow') {
  return {
    id: randomUUID(),
    zone_id: 'zone-e2e',
    event_type: decision === 'deny' ? 'token_denied' : 'token_issued',
    request_id: `req-${i}`,
    decision,
    evaluation_status: 'evaluated',
    determining_policies_json: [],
    diagnostics_json: [],
    metadata_json: { email: 'someone@example.com', n: i },
    occurred_at: new Date().toISOString(),
  };
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ledgerhub-e2e-'));
  db = await createTestDatabase();
  redis = createRedis(redisUrl(), 'e2e-producer');
  hec = await startSplunkHec({ tokens: { [hecToken]: { indexes: ['audit'], ack: true } } });
  es = await startElasticsearch({ apiKeys: [esKey], dataStreams: ['logs-*'] });
  hook = await startWebhookReceiver();
  kube = await startFakeKubeApiServer();
  const kc = new KubeConfig();
  kc.loadFromOptions(kube.kubeConfigOptions());
  kubectl = kubectlFor(kube, kc);
  if (KUBECTL) {
    const r = await kubectl.run('apply', '-f', `${ROOT}crds/`);
    if (r.code !== 0) throw new Error(r.stderr);
  } else {
    for (const f of ['auditpolicies.yaml', 'auditsinks.yaml'])
      applyCrdYaml(kube, readFileSync(`${ROOT}crds/${f}`, 'utf8'));
  }
  kube.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const applied = await kubectl.apply(localizedExamples(), NS);
  if (!applied.ok) throw new Error(applied.output);
  operatorPort = await freePort();
  // client-node refuses a plain-http cluster unless it is marked insecure-skip-tls-verify (kubectl does not care)
  const kubeconfig = parse(readFileSync(kube.kubeconfigPath, 'utf8'));
  for (const c of kubeconfig.clusters) c.cluster['insecure-skip-tls-verify'] = true;
  const kubeconfigPath = join(scratch, 'kubeconfig');
  writeFileSync(kubeconfigPath, stringify(kubeconfig));
  operator = startRole('operator', {
    KUBECONFIG: kubeconfigPath,
    PORT: String(operatorPort),
    LEDGERHUB_OPERATOR_NAMESPACE: NS,
    LEDGERHUB_OPERATOR_PROBE_INTERVAL_SECS: '1',
    LEDGERHUB_OPERATOR_COALESCE_MS: '100',
    LEDGERHUB_WORKLOAD_IMAGE: 'ledgerhub:e2e',
  });
  await operator.waitForLog('became leader', 30_000);
});

afterAll(async () => {
  await Promise.all(pods.map((p) => p.stop()));
  if (operator) {
    operator.kill('SIGTERM');
    await operator.exited;
  }
  kubectl?.close();
  await kube?.stop();
  await Promise.all([hec?.stop(), es?.stop(), hook?.stop()]);
  redis?.disconnect();
  await db?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

const deployments = ['production-worker', 'production-forwarder', 'production-api', 'production-sweeper'];
const policy = (): Json => kube.get('ledgerhub.io/v1alpha1', 'AuditPolicy', NS, 'production');
const sink = (name: string): Json => kube.get('ledgerhub.io/v1alpha1', 'AuditSink', NS, name);
const condition = (obj: Json, type: string) => obj?.status?.conditions?.find((c: Json) => c.type === type);

describe('end to end, without a cluster', () => {
  it('renders the workloads of the example policy', async () => {
    await waitFor(
      'the Deployments and CronJobs',
      () =>
        deployments.every((d) => kube.get('apps/v1', 'Deployment', NS, d)) &&
        ['production-retention', 'production-export', 'production-verify'].every((c) =>
          kube.get('batch/v1', 'CronJob', NS, c),
        ),
      30_000,
    );
    // nothing runs yet: the policy says which workload it waits for
    const notReady = await waitFor('a Ready condition', () => condition(policy(), 'Ready'), 30_000);
    expect(notReady).toMatchObject({ status: 'False' });
  });

  it('runs the pod templates as local processes until every Deployment is available', async () => {
    // the worker first: its init container migrates the ledger the others read
    for (const name of deployments) {
      const pod = await startPod(kube, NS, name, scratch);
      pods.push(pod);
      await markAvailableWhenReady(kube, NS, pod);
    }
    await waitFor(
      'the policy to be Ready',
      () => condition(policy(), 'Ready')?.status === 'True' || undefined,
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(policy().status?.conditions)}`);
    });
    expect(policy().status).toMatchObject({ workloads: '4/4', sinks: '3/3' });
  });

  it('delivers events from the stream to every sink their route selects', async () => {
    const key = hmacKeyFromBytes(hmac);
    const events = [
      ...Array.from({ length: 6 }, (_, i) => event(i, 'deny')),
      ...Array.from({ length: 4 }, (_, i) => event(10 + i, 'allow')),
    ];
    for (const e of events) {
      const data = JSON.stringify(e);
      await redis.xadd(`${prefix}.events`, '*', ...encodeStreamFields(e.id, data, key));
    }
    const denied = new Set(events.filter((e) => e.decision === 'deny').map((e) => e.id));
    const hecEvents = await hec.waitForEvents(6, 60_000);
    expect(new Set(hecEvents.map((e) => (e.event as Json).id))).toEqual(denied);
    const docs = await es.waitForDocuments('logs-ledgerhub.audit-default', 10, 60_000);
    expect(docs).toHaveLength(10);
    const hooks = await hook.waitForDeliveries(1, 60_000);
    await waitFor(
      'six webhook events',
      () => {
        const all = hook
          .deliveries()
          .flatMap((d) => ((d.body as Json).events ?? (d.body as Json).data ?? []) as Json[]);
        return all.length >= 6 ? all : undefined;
      },
      60_000,
    );
    expect(hooks[0]!.verified).toBe(true);
    expect(JSON.stringify(hook.deliveries().map((d) => d.body))).not.toContain('someone@example.com');
  });

  it("shows the deliveries in each AuditSink's status and keeps the policy Ready", async () => {
    for (const [name, n] of [
      ['splunk', 6],
      ['elastic', 10],
      ['webhook', 6],
    ] as const) {
      await waitFor(
        `${name} status to count ${n} deliveries`,
        () => (sink(name)?.status?.delivered ?? 0) >= n || undefined,
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(sink(name)?.status)}`);
      });
      expect(sink(name).status).toMatchObject({ policies: ['production'], lag: 0, deadLettered: 0 });
      expect(condition(sink(name), 'Delivering')).toMatchObject({ status: 'True', reason: 'Delivering' });
      expect(sink(name).status.lastDelivery).toBeTypeOf('string');
    }
    expect(condition(policy(), 'Ready')).toMatchObject({ status: 'True' });
    expect(policy().status.ingestion).toEqual({ lag: 0, deadLettered: 0 });
  });

  it('answers kubectl get with the printer columns and serves its own probes and metrics', async () => {
    if (KUBECTL) {
      const r = await kubectl.run('get', 'auditpolicies,auditsinks', '-n', NS);
      expect(r.stdout).toMatch(/NAME\s+READY\s+WORKLOADS\s+SINKS\s+LAG\s+DLQ\s+AGE/);
      expect(r.stdout).toMatch(/production\s+True\s+4\/4\s+3\/3\s+0\s+0/);
      expect(r.stdout).toMatch(/splunk\s+splunkHec\s+True\s+True\s+0\s+6/);
    }
    expect((await fetch(`http://127.0.0.1:${operatorPort}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${operatorPort}/metrics`)).text();
    expect(metrics).toContain('ledgerhub_operator_reconciles_total');
    expect(metrics).toMatch(/ledgerhub_policy_ready\{namespace="ledgerhub",policy="production"\} 1/);
    expect(policy().status.observedGeneration).toBe(policy().metadata.generation);
  });
});
