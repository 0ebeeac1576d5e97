// bench:operator — N AuditPolicies with 3 AuditSinks each created on the fake Kubernetes API server while
// `ledgerhub operator` (a child process, as deployed) runs against it; each policy has its own ledger
// database, all share one Redis. The bench plays the Deployment controller (availableReplicas once a
// Deployment exists). Measures the time until every policy is Ready, the API requests the operator made
// to get there, reconcile latency, writes during an idle window, and the operator's peak RSS. The
// operator runs with the chart's NODE_OPTIONS (operator.nodeOptions), as it is deployed.
//
// Last line: bench:operator policies=<N> converge_s=<all Ready> reconcile_p99_ms=<..>
//            requests_per_policy=<API calls to converge / N> idle_writes=<writes in the idle window,
//            lease renewals excluded> rss_mb=<peak RSS>
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { applyCrdYaml, startFakeKubeApiServer } from '../test/support/kube-apiserver/index.ts';
import { freePort, startLocalStack } from '../test/support/local-services.ts';
import { startRole } from '../test/support/role-process.ts';
import { benchArgs, pollUntil, progress, result } from './harness.ts';

const args = benchArgs({ policies: '200', 'idle-secs': '60', sinks: '3' });
const N = Number(args.policies);
const SINKS = Number(args.sinks);
const IDLE_MS = Number(args['idle-secs']) * 1000;
const NS = 'bench';
const GV = 'ledgerhub.io/v1alpha1';
const ROOT = new URL('..', import.meta.url).pathname;

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes JSON
type Json = any;

/** p-quantile of a Prometheus histogram (linear inside the bucket), in the metric's unit. */
function histogramQuantile(metrics: string, name: string, q: number): number {
  const buckets: [number, number][] = [];
  for (const line of metrics.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+(?:\\.\\d+)?)$`).exec(line);
    if (!m) continue;
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    const existing = buckets.find((b) => b[0] === le);
    if (existing) existing[1] += Number(m[2]);
    else buckets.push([le, Number(m[2])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return 0;
  const target = total * q;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= target) {
      if (le === Number.POSITIVE_INFINITY) return prevLe;
      return prevLe + ((le - prevLe) * (target - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function chartNodeOptions(): string {
  const values = parse(readFileSync(`${ROOT}charts/ledgerhub/values.yaml`, 'utf8'));
  return String(values.operator.nodeOptions ?? '');
}

function currentRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-operator-'));
  const stack = await startLocalStack({ env: {}, durable: false });
  const admin = new pg.Client({ connectionString: stack.databaseUrl.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  progress(`creating ${N} ledger databases`);
  const dbs = Array.from({ length: N }, (_, i) => `bench_op_${i}`);
  for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS ${db}`);
  for (const db of dbs) await admin.query(`CREATE DATABASE ${db}`);

  const kube = await startFakeKubeApiServer({ watchHistory: 20_000 });
  for (const f of ['auditpolicies.yaml', 'auditsinks.yaml'])
    applyCrdYaml(kube, readFileSync(`${ROOT}crds/${f}`, 'utf8'));
  kube.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const kubeconfig = parse(readFileSync(kube.kubeconfigPath, 'utf8'));
  for (const c of kubeconfig.clusters) c.cluster['insecure-skip-tls-verify'] = true;
  const kubeconfigPath = join(scratch, 'kubeconfig');
  writeFileSync(kubeconfigPath, stringify(kubeconfig));

  const port = await freePort();
  let stopping = false;
  const operator = startRole('operator', {
    KUBECONFIG: kubeconfigPath,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    LEDGERHUB_OPERATOR_NAMESPACE: NS,
    LEDGERHUB_WORKLOAD_IMAGE: 'ledgerhub:bench',
    // the V8 settings the chart deploys the operator with (operator.nodeOptions)
    NODE_OPTIONS: chartNodeOptions(),
  });
  operator.exited.then(({ code, signal }) => {
    if (!stopping) {
      console.error(`the operator exited (${code ?? signal}): ${operator.stderr.slice(-20).join('\n')}`);
      process.exit(1);
    }
  });
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await pollUntil(async () => {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
    return (
      ready?.status === 200 &&
      / 1$/m.test((await metrics()).split('\n').find((l) => l.startsWith('ledgerhub_operator_leader ')) ?? '')
    );
  }, 100);
  progress('operator leading with synced caches; creating policies');

  // the Deployment controller: a Deployment the operator applied becomes available (found through the
  // request log, so the bench does not copy every Deployment out of the fake on each pass)
  let controllerStopped = false;
  let seenUntil = 0;
  const controller = (async () => {
    while (!controllerStopped) {
      const now = Date.now();
      const applied = new Set(
        kube.requests
          .entries({ resource: 'deployments', verb: 'patch', sinceMs: seenUntil })
          .filter((r) => r.name)
          .map((r) => r.name!),
      );
      seenUntil = now;
      for (const name of applied) {
        const d = kube.get('apps/v1', 'Deployment', NS, name) as Json;
        if (!d) continue;
        kube.setStatus('apps/v1', 'Deployment', NS, name, {
          observedGeneration: d.metadata.generation,
          replicas: d.spec.replicas,
          readyReplicas: d.spec.replicas,
          availableReplicas: d.spec.replicas,
          updatedReplicas: d.spec.replicas,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  kube.requests.reset();
  const t0 = Date.now();
  const hmac = randomBytes(32).toString('hex');
  for (let i = 0; i < N; i++) {
    const secret = `ledger-${i}`;
    kube.upsert({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret, namespace: NS },
      stringData: {
        redis: stack.redisUrl,
        postgres: stack.databaseUrl.replace(/\/[^/]*$/, `/${dbs[i]}`),
        hmac,
        hook: `whsec_${randomBytes(24).toString('base64')}`,
      },
    });
    const sinks = Array.from({ length: SINKS }, (_, s) => `p${i}-sink${s}`);
    for (const name of sinks) {
      kube.upsert({
        apiVersion: GV,
        kind: 'AuditSink',
        metadata: { name, namespace: NS },
        spec: {
          type: 'webhook',
          webhook: {
            endpoint: `https://siem-${i}.example.com/${name}`,
            signingSecret: { name: secret, key: 'hook' },
          },
        },
      });
    }
    kube.upsert({
      apiVersion: GV,
      kind: 'AuditPolicy',
      metadata: { name: `p${i}`, namespace: NS },
      spec: {
        mode: 'production',
        ledger: {
          redisUrl: { name: secret, key: 'redis' },
          postgresUrl: { name: secret, key: 'postgres' },
          hmacKey: { name: secret, key: 'hmac' },
          stream: `bench.p${i}.events`,
          dlqStream: `bench.p${i}.dlq`,
        },
        sinks: sinks.map((name) => ({ sinkRef: { name } })),
      },
    });
  }
  progress(`created ${N} policies and ${N * SINKS} sinks in ${Date.now() - t0} ms; waiting for Ready`);

  const readyCount = () =>
    (kube.list(GV, 'AuditPolicy', NS) as Json[]).filter((p) =>
      p.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'),
    ).length;
  let lastReport = Date.now();
  await pollUntil(async () => {
    const n = readyCount();
    if (Date.now() - lastReport > 5000) {
      progress(`${n}/${N} Ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      lastReport = Date.now();
    }
    return n === N;
  }, 250);
  const convergeS = (Date.now() - t0) / 1000;
  const requests = kube.requests.total();
  const byVerb = kube.requests.byVerb();
  progress(`all Ready in ${convergeS.toFixed(2)} s with ${requests} requests ${JSON.stringify(byVerb)}`);

  // settle: the operator's queue empty and the last status writes seen
  await pollUntil(async () => /^ledgerhub_operator_queue_depth 0$/m.test(await metrics()), 100);
  const settledSince = Date.now();
  await pollUntil(
    async () =>
      Date.now() - settledSince > 2000 &&
      kube.requests.writes(Date.now() - 2000) ===
        kube.requests.count({ writesOnly: true, resource: 'leases', sinceMs: Date.now() - 2000 }),
    200,
  );

  progress(`idle window: ${IDLE_MS / 1000} s with nothing changing`);
  const idleStart = Date.now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const leaseWrites = kube.requests.count({ writesOnly: true, resource: 'leases', sinceMs: idleStart });
  const idleWrites = kube.requests.writes(idleStart) - leaseWrites;
  const idleDetail = kube.requests
    .entries({ writesOnly: true, sinceMs: idleStart })
    .filter((r) => r.resource !== 'leases')
    .slice(0, 5)
    .map((r) => `${r.verb} ${r.resource}/${r.name}`);
  progress(
    `idle: ${idleWrites} writes ${JSON.stringify(idleDetail)}, ${leaseWrites} lease renewals (excluded)`,
  );

  const text = await metrics();
  const p99 = histogramQuantile(text, 'ledgerhub_operator_reconcile_duration_seconds', 0.99) * 1000;
  const rss = peakRssMb(operator.child.pid!);
  progress(`operator peak RSS ${rss.toFixed(1)} MB, now ${currentRssMb(operator.child.pid!).toFixed(1)} MB`);

  controllerStopped = true;
  await controller;
  stopping = true;
  operator.kill('SIGTERM');
  await operator.exited;
  await kube.stop();
  for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
  await stack.stop();
  rmSync(scratch, { recursive: true, force: true });

  result('bench:operator', {
    policies: N,
    converge_s: convergeS,
    reconcile_p99_ms: p99,
    requests_per_policy: requests / N,
    idle_writes: idleWrites,
    rss_mb: rss,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
