// The watch supervisor: a watch whose connection is reset is started again, one that ends is resumed, a
// resourceVersion that expired (410 Gone) leads to a relist that finds what changed meanwhile, and a
// failing initial list is retried until the caches sync.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.ts';
import { basicPolicy, ledgerSecret, type OperatorFixture, startOperatorFixture } from './operator-fixture.ts';

let fx: OperatorFixture;

beforeAll(async () => {
  fx = await startOperatorFixture();
});

afterAll(async () => {
  await fx.stop();
});

async function restarts(): Promise<number> {
  return (await fx.op.metrics.watchRestarts.get()).values.reduce((n, v) => n + v.value, 0);
}

function reconciled(policy: string): Promise<unknown> {
  return waitFor(
    `${policy} to be reconciled`,
    () => fx.owned('apps/v1', 'Deployment', `${policy}-worker`),
    15_000,
  );
}

describe('watches', () => {
  it('starts a watch again after its connection is reset, and sees what changed', async () => {
    const before = await restarts();
    const dropped = fx.kube.faults.dropWatches({ mode: 'reset' });
    expect(dropped).toBeGreaterThan(0);
    fx.secret('reset-ledger', ledgerSecret('reset'));
    fx.policy('reset', basicPolicy('reset-ledger'));
    await reconciled('reset');
    await waitFor(
      'a watch restart to be counted',
      async () => (await restarts()) > before || undefined,
      10_000,
    );
  });

  it('resumes a watch the server ended', async () => {
    fx.kube.faults.dropWatches({ mode: 'close' });
    fx.secret('closed-ledger', ledgerSecret('closed'));
    fx.policy('closed', basicPolicy('closed-ledger'));
    await reconciled('closed');
  });

  it('relists after 410 Gone and catches up with changes made while it was away', async () => {
    const since = Date.now();
    fx.kube.faults.compactHistory();
    fx.kube.faults.expireNextWatches(20, { as: 'event' });
    fx.kube.faults.dropWatches({ mode: 'close' });
    fx.secret('expired-ledger', ledgerSecret('expired'));
    fx.policy('expired', basicPolicy('expired-ledger'));
    await reconciled('expired');
    expect(
      fx.kube.requests.count({ verb: 'list', resource: 'auditpolicies', sinceMs: since }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('retries a failing list until its cache syncs', async () => {
    fx.kube.faults.failNext({ verb: 'list', resource: 'auditsinks', status: 500, count: 2 });
    const replica = await fx.startReplica({ LEDGERHUB_OPERATOR_IDENTITY: 'late' });
    await waitFor('the replica to sync', () => replica.controller.synced || undefined, 15_000);
    const r = (await replica.metrics.watchRestarts.get()).values.find(
      (v) => v.labels.resource === 'auditsinks',
    );
    expect(r?.value).toBeGreaterThanOrEqual(2);
  });
});
