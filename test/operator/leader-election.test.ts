// Leader election on a coordination.k8s.io Lease: one replica of two reconciles, a standby takes over
// when the leader stops, and a leader that cannot renew steps down (and its process ends).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeys } from '../../ledger/config/operator.ts';
import { waitFor } from '../support/wait.ts';
import {
  basicPolicy,
  type Json,
  ledgerSecret,
  type OperatorFixture,
  startOperatorFixture,
} from './operator-fixture.ts';

let fx: OperatorFixture;

beforeAll(async () => {
  fx = await startOperatorFixture();
});

afterAll(async () => {
  await fx.stop();
});

const lease = (): Json => fx.kube.get('coordination.k8s.io/v1', 'Lease', 'default', 'ledgerhub-operator');

describe('leader election', () => {
  it('defaults to a 15 s lease, a 10 s renew deadline and a 2 s retry period', () => {
    expect(operatorKeys.leaseDurationSecs.default).toBe(15);
    expect(operatorKeys.renewDeadlineSecs.default).toBe(10);
    expect(operatorKeys.retryPeriodSecs.default).toBe(2);
  });

  it('records the leader in the Lease, and a second replica stays on standby without writing', async () => {
    expect(lease().spec).toMatchObject({ holderIdentity: fx.op.identity, leaseDurationSeconds: 3 });
    const standby = await fx.startReplica({ LEDGERHUB_OPERATOR_IDENTITY: 'standby' });
    await waitFor('the standby to sync its caches', () => standby.controller.synced, 10_000);
    fx.secret('led-ledger', ledgerSecret('led'));
    fx.policy('led', basicPolicy('led-ledger'));
    await waitFor('the leader to reconcile', () => fx.owned('apps/v1', 'Deployment', 'led-worker'), 10_000);
    expect(standby.isLeader()).toBe(false);
    const standbyWrites = await standby.metrics.apiRequests.get();
    const writes = standbyWrites.values.filter((v) => v.labels.verb !== 'get' && v.labels.verb !== 'list');
    expect(writes.filter((v) => v.labels.resource !== 'leases')).toEqual([]);
    expect((await standby.metrics.leader.get()).values[0]?.value).toBe(0);
    expect((await fx.op.metrics.leader.get()).values[0]?.value).toBe(1);

    // the leader stops and releases the Lease: the standby takes over and reconciles
    await fx.op.stop();
    await waitFor('the standby to lead', () => standby.isLeader(), 10_000);
    expect(lease().spec.holderIdentity).toBe('standby');
    expect(lease().spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    fx.secret('after-ledger', ledgerSecret('after'));
    fx.policy('after', basicPolicy('after-ledger'));
    await waitFor(
      'the new leader to reconcile',
      () => fx.owned('apps/v1', 'Deployment', 'after-worker'),
      10_000,
    );
  });

  it('steps down and ends when it cannot renew within the renew deadline', async () => {
    const leader = await fx.startReplica({
      LEDGERHUB_OPERATOR_IDENTITY: 'fragile',
      LEDGERHUB_OPERATOR_LEASE_NAME: 'fragile',
    });
    await waitFor('fragile to lead its own lease', () => leader.isLeader(), 10_000);
    fx.kube.faults.failNext({ verb: 'update', resource: 'leases', name: 'fragile', status: 500, count: 100 });
    fx.kube.faults.failNext({ verb: 'get', resource: 'leases', name: 'fragile', status: 500, count: 100 });
    await expect(leader.done).rejects.toThrow('lost the leader lease');
    expect(leader.isLeader()).toBe(false);
    fx.kube.faults.clear();
  });
});
