// The operator against the fake API server: what a policy owns and how it is written (server-side apply,
// owner references, no finalizer), status and Events, Secret rotation rolling workloads, missing Secrets
// and sinks, two policies on one ledger, pruning, drift repair, bursts, failing writes, and no writes at
// all when nothing changed. Ledger probing is off here (see sink-health.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATION_CHECKSUM } from '../../operator/desired/names.ts';
import { waitFor } from '../support/wait.ts';
import {
  basicPolicy,
  type Json,
  ledgerSecret,
  type OperatorFixture,
  startOperatorFixture,
  WEBHOOK_SECRET,
  webhookSink,
} from './operator-fixture.ts';

let fx: OperatorFixture;

beforeAll(async () => {
  fx = await startOperatorFixture();
  fx.secret('hook', { secret: WEBHOOK_SECRET });
  fx.sink('hook', webhookSink());
});

afterAll(async () => {
  await fx.stop();
});

const deployment = (name: string): Json => fx.owned('apps/v1', 'Deployment', name);
const configMap = (name: string): Json => fx.owned('v1', 'ConfigMap', name);
const cronJob = (name: string): Json => fx.owned('batch/v1', 'CronJob', name);

function ownedNames(policy: string): string[] {
  const out: string[] = [];
  for (const [apiVersion, kind] of [
    ['v1', 'ConfigMap'],
    ['apps/v1', 'Deployment'],
    ['v1', 'Service'],
    ['batch/v1', 'CronJob'],
  ] as const) {
    for (const o of fx.kube.list(apiVersion, kind, fx.namespace) as Json[]) {
      if (o.metadata.labels?.['ledgerhub.io/policy'] === policy) out.push(`${kind}/${o.metadata.name}`);
    }
  }
  return out.sort();
}

/** Writes other than Lease renewals and Events since `since`. */
function writesSince(since: number): string[] {
  return fx.kube.requests
    .entries({ sinceMs: since, writesOnly: true })
    .filter((r) => r.resource !== 'leases' && r.resource !== 'events')
    .map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''} ${r.name ?? ''}`);
}

async function reconcilesOf(kind: string): Promise<number> {
  const metric = await fx.op.metrics.reconciles.get();
  return metric.values.filter((v) => v.labels.kind === kind).reduce((n, v) => n + v.value, 0);
}

async function ready(policy: string): Promise<void> {
  await waitFor(`${policy}'s Deployments`, () => deployment(`${policy}-worker`), 10_000);
  await fx.idle();
  fx.makeAvailable(policy);
  await fx.waitFor('AuditPolicy', policy, 'Ready', 'True');
}

describe('reconciling an AuditPolicy', () => {
  it('creates the role ConfigMap, the Deployments, the API Service and the CronJobs, owned by the policy', async () => {
    fx.secret('alpha-ledger', ledgerSecret('alpha'));
    const policy = fx.policy(
      'alpha',
      basicPolicy('alpha-ledger', { sinks: [{ sinkRef: { name: 'hook' } }] }),
    );
    await waitFor('alpha to be reconciled', () => ownedNames('alpha').length === 9 || undefined, 10_000);
    expect(ownedNames('alpha')).toEqual(
      [
        'ConfigMap/alpha-config',
        'ConfigMap/alpha-sinks',
        'CronJob/alpha-retention',
        'CronJob/alpha-verify',
        'Deployment/alpha-api',
        'Deployment/alpha-forwarder',
        'Deployment/alpha-sweeper',
        'Deployment/alpha-worker',
        'Service/alpha-api',
      ].sort(),
    );
    const worker = deployment('alpha-worker');
    expect(worker.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'AuditPolicy',
        name: 'alpha',
        uid: policy.metadata.uid,
        controller: true,
      }),
    ]);
    expect(worker.metadata.managedFields.map((f: Json) => [f.manager, f.operation])).toContainEqual([
      'ledgerhub-operator',
      'Apply',
    ]);
    expect(fx.get('AuditPolicy', 'alpha').metadata.finalizers).toBeUndefined();
    expect(JSON.parse(configMap('alpha-sinks').data['sinks.json']).sinks.map((s: Json) => s.name)).toEqual([
      'hook',
    ]);
  });

  it('becomes Ready when its Deployments are available, with observedGeneration, printer fields and an Event', async () => {
    await fx.waitFor('AuditPolicy', 'alpha', 'Ready', 'False', 'WorkerUnavailable');
    await ready('alpha');
    const status = fx.get('AuditPolicy', 'alpha').status;
    expect(status.observedGeneration).toBe(1);
    expect(status.workloads).toBe('4/4');
    expect(status.sinks).toBe('1/1');
    for (const c of status.conditions) expect(c.observedGeneration).toBe(1);
    await waitFor('a Ready event', () =>
      (fx.kube.list('v1', 'Event', fx.namespace) as Json[]).find(
        (e) => e.involvedObject.name === 'alpha' && e.reason === 'Ready' && e.type === 'Normal',
      ),
    );
    expect(fx.get('AuditSink', 'hook').status.policies).toContain('alpha');
  });

  it('writes nothing at all when nothing changed, even on a full resync', async () => {
    await fx.idle();
    const since = Date.now();
    fx.op.controller.requeueAll();
    await fx.idle();
    fx.op.controller.requeueAll();
    await fx.idle();
    expect(writesSince(since)).toEqual([]);
  });

  it('rolls exactly the workloads whose Secrets changed', async () => {
    const checksum = (name: string) =>
      deployment(name).spec.template.metadata.annotations[ANNOTATION_CHECKSUM];
    const worker = checksum('alpha-worker');
    const forwarder = checksum('alpha-forwarder');
    fx.secret('alpha-ledger', { ...ledgerSecret('alpha'), hmac: 'ef'.repeat(32) });
    await waitFor('the worker to roll', () => checksum('alpha-worker') !== worker || undefined, 10_000);
    expect(checksum('alpha-forwarder')).toBe(forwarder);
    fx.secret('hook', { secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}` });
    await waitFor(
      'the forwarder to roll',
      () => checksum('alpha-forwarder') !== forwarder || undefined,
      10_000,
    );
  });

  it('repairs an owned object someone else changed', async () => {
    const live = deployment('alpha-worker');
    fx.kube.upsert({ ...live, spec: { ...live.spec, replicas: 7 } });
    await waitFor(
      'replicas back to 1',
      () => deployment('alpha-worker').spec.replicas === 1 || undefined,
      10_000,
    );
  });

  it('deletes what the policy no longer runs', async () => {
    const current = fx.get('AuditPolicy', 'alpha');
    fx.kube.upsert({
      ...current,
      spec: { ...current.spec, export: { destination: { volume: { claimName: 'archive' } } } },
    });
    await waitFor('the export CronJob', () => cronJob('alpha-export'), 10_000);
    const withExport = fx.get('AuditPolicy', 'alpha');
    const { export: _dropped, ...rest } = withExport.spec;
    fx.kube.upsert({ ...withExport, spec: { ...rest, api: { enabled: false } } });
    await waitFor(
      'export and api gone',
      () => {
        const names = ownedNames('alpha');
        return !names.includes('CronJob/alpha-export') &&
          !names.includes('Service/alpha-api') &&
          !names.includes('Deployment/alpha-api')
          ? names
          : undefined;
      },
      10_000,
    );
    await fx.waitFor('AuditPolicy', 'alpha', 'ExportScheduled', 'False', 'NotConfigured');
  });

  it('cascades deletion through owner references and leaves no finalizer behind', async () => {
    fx.secret('doomed-ledger', ledgerSecret('doomed'));
    fx.policy('doomed', basicPolicy('doomed-ledger'));
    await waitFor('doomed objects', () => ownedNames('doomed').length > 0 || undefined, 10_000);
    const res = await fetch(
      `${fx.kube.url}/apis/ledgerhub.io/v1alpha1/namespaces/${fx.namespace}/auditpolicies/doomed`,
      {
        method: 'DELETE',
      },
    );
    expect(res.status).toBe(200);
    await fx.kube.settled();
    await waitFor('garbage collection', () => ownedNames('doomed').length === 0 || undefined, 10_000);
    expect(fx.get('AuditPolicy', 'doomed')).toBeUndefined();
  });
});

describe('bad input and failures', () => {
  it('reports a missing Secret, creates nothing, and recovers when the Secret appears', async () => {
    fx.policy('nosecret', basicPolicy('nosecret-ledger'));
    const c = await fx.waitFor('AuditPolicy', 'nosecret', 'Ready', 'False', 'SecretNotFound');
    expect(c.message).toContain('nosecret-ledger/redis');
    expect(ownedNames('nosecret')).toEqual([]);
    fx.secret('nosecret-ledger', ledgerSecret('nosecret'));
    await waitFor(
      'objects once the Secret exists',
      () => ownedNames('nosecret').length > 0 || undefined,
      10_000,
    );
    await fx.waitFor('AuditPolicy', 'nosecret', 'Ready', 'False', 'WorkerUnavailable');
  });

  it('reports a missing sink, runs the sinks that exist, and adds the missing one when it appears', async () => {
    fx.secret('partial-ledger', ledgerSecret('partial'));
    fx.policy(
      'partial',
      basicPolicy('partial-ledger', {
        sinks: [{ sinkRef: { name: 'hook' } }, { sinkRef: { name: 'ghost' } }],
      }),
    );
    const c = await fx.waitFor('AuditPolicy', 'partial', 'Forwarding', 'False', 'SinkNotFound');
    expect(c.message).toBe('AuditSink ghost not found');
    await waitFor('partial sinks file', () => configMap('partial-sinks'), 10_000);
    expect(JSON.parse(configMap('partial-sinks').data['sinks.json']).sinks.map((s: Json) => s.name)).toEqual([
      'hook',
    ]);
    expect(fx.get('AuditPolicy', 'partial').status.sinks).toBe('1/2');
    fx.sink('ghost', webhookSink('https://ghost.example.com/h'));
    await waitFor(
      'ghost in the sinks file',
      () => JSON.parse(configMap('partial-sinks').data['sinks.json']).sinks.length === 2 || undefined,
      10_000,
    );
  });

  it('reports a sink whose Secret is missing on the sink and the policy, and leaves it out of the forwarder', async () => {
    fx.sink('nokey', {
      type: 'webhook',
      webhook: { endpoint: 'https://n.example/h', signingSecret: { name: 'absent', key: 'secret' } },
    });
    const sinkReady = await fx.waitFor('AuditSink', 'nokey', 'Ready', 'False', 'SecretNotFound');
    expect(sinkReady.message).toContain('absent/secret');
    fx.secret('nokey-ledger', ledgerSecret('nokey'));
    fx.policy('nokey', basicPolicy('nokey-ledger', { sinks: [{ sinkRef: { name: 'nokey' } }] }));
    await fx.waitFor('AuditPolicy', 'nokey', 'Forwarding', 'False', 'SecretNotFound');
    await waitFor('nokey sinks file', () => configMap('nokey-sinks'), 10_000);
    expect(JSON.parse(configMap('nokey-sinks').data['sinks.json']).sinks).toEqual([]);
  });

  it('lets one policy run a ledger two policies claim, and hands it over when the holder goes', async () => {
    fx.secret('first-ledger', ledgerSecret('shared'));
    fx.policy('first', basicPolicy('first-ledger'));
    await waitFor('first objects', () => ownedNames('first').length > 0 || undefined, 10_000);
    // the same database through another Secret and other credentials
    fx.secret('second-ledger', {
      ...ledgerSecret('shared'),
      postgres: 'postgres://other:pw@127.0.0.1:5432/shared',
    });
    fx.policy('second', basicPolicy('second-ledger'));
    const c = await fx.waitFor('AuditPolicy', 'second', 'Ready', 'False', 'Conflict');
    expect(c.message).toContain(`AuditPolicy ${fx.namespace}/first`);
    expect(ownedNames('second')).toEqual([]);
    await fetch(`${fx.kube.url}/apis/ledgerhub.io/v1alpha1/namespaces/${fx.namespace}/auditpolicies/first`, {
      method: 'DELETE',
    });
    await waitFor('second takes the ledger', () => ownedNames('second').length > 0 || undefined, 10_000);
    await fx.waitFor('AuditPolicy', 'second', 'Ready', 'False', 'WorkerUnavailable');
  });

  it('retries a failing write with back-off and keeps reconciling the other policies meanwhile', async () => {
    fx.secret('flaky-ledger', ledgerSecret('flaky'));
    fx.secret('steady-ledger', ledgerSecret('steady'));
    fx.kube.faults.failNext({
      verb: 'patch',
      resource: 'deployments',
      name: 'flaky-worker',
      status: 500,
      count: 3,
    });
    fx.policy('flaky', basicPolicy('flaky-ledger'));
    fx.policy('steady', basicPolicy('steady-ledger'));
    const failed = await fx.waitFor('AuditPolicy', 'flaky', 'Ready', 'False', 'ApplyFailed');
    expect(failed.message).toContain('flaky-worker');
    await ready('steady');
    await waitFor('flaky worker applied after retries', () => deployment('flaky-worker'), 15_000);
    await ready('flaky');
    const errors = await fx.op.metrics.reconcileErrors.get();
    expect(errors.values.find((v) => v.labels.reason === 'ApplyFailed')?.value).toBeGreaterThanOrEqual(1);
  });

  it('turns a burst of 1,000 updates to one policy into a handful of reconciles', async () => {
    fx.secret('bursty-ledger', ledgerSecret('bursty'));
    fx.policy('bursty', basicPolicy('bursty-ledger'));
    await ready('bursty');
    await fx.idle();
    const before = await reconcilesOf('AuditPolicy');
    const url = `${fx.kube.url}/apis/ledgerhub.io/v1alpha1/namespaces/${fx.namespace}/auditpolicies/bursty`;
    const patch = (i: number) =>
      fetch(url, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { ingestion: { batchSize: 2000 + i } } }),
      });
    // ten clients, a hundred updates each, the last one wins
    const clients = Array.from({ length: 10 }, async (_, c) => {
      for (let i = c * 100 + 1; i <= c * 100 + 100; i++)
        if ((await patch(i)).status !== 200) throw new Error('patch failed');
    });
    await Promise.all(clients);
    expect((await patch(1000)).status).toBe(200);
    await waitFor(
      'the last batch size in the ConfigMap',
      () => configMap('bursty-config').data.AUDIT_BATCH_SIZE === '3000' || undefined,
      10_000,
    );
    await fx.idle();
    const reconciles = (await reconcilesOf('AuditPolicy')) - before;
    expect(reconciles).toBeGreaterThanOrEqual(1);
    expect(reconciles).toBeLessThanOrEqual(10);
    const final = fx.get('AuditPolicy', 'bursty');
    expect(final.metadata.generation).toBeGreaterThan(900);
    expect(final.status.observedGeneration).toBe(final.metadata.generation);
  });
});
