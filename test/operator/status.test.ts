// Status as a pure function of what the operator observed: each condition's reason in each situation,
// Ready as their summary, transition times that stay put while nothing changes, and sink health summed
// over the policies that forward to a sink.
import { describe, expect, it } from 'vitest';
import type { SinkHealth } from '../../ledger/sinks/health-store.ts';
import { eventsFor, mergeConditions, transitions } from '../../operator/status/conditions.ts';
import { type PolicyObservations, policyStatus } from '../../operator/status/policy-status.ts';
import { sinkStatus } from '../../operator/status/sink-status.ts';

const NOW = '2026-01-02T03:04:05Z';
const LATER = '2026-01-02T04:00:00Z';

function healthy(overrides: Partial<PolicyObservations> = {}): PolicyObservations {
  return {
    generation: 4,
    workloads: [
      { component: 'worker', name: 'p-worker', desired: 2, available: 2 },
      { component: 'forwarder', name: 'p-forwarder', desired: 1, available: 1 },
      { component: 'api', name: 'p-api', desired: 1, available: 1 },
    ],
    schedules: [
      { component: 'retention', schedule: '17 3 * * *', applied: true },
      { component: 'verify', schedule: '37 4 * * *', applied: true },
    ],
    exportConfigured: false,
    jobs: {},
    sinks: [{ name: 'splunk' }],
    probe: {
      redis: { ok: true, lag: 12, deadLettered: 3 },
      postgres: { ok: true, sinks: [health({ name: 'splunk' })] },
    },
    probed: true,
    ...overrides,
  };
}

function health(overrides: Partial<SinkHealth> = {}): SinkHealth {
  return {
    name: 'splunk',
    type: 'splunkHec',
    format: 'caracal',
    active: true,
    breaker: 'closed',
    disabled: null,
    deliveredThrough: 90,
    enqueuedThrough: 100,
    ledgerHead: 100,
    lagEvents: 10,
    lagSeconds: 1.5,
    deliveredEvents: 90,
    deliveredBatches: 3,
    deadLetters: 1,
    deadLetteredTotal: 2,
    replayedEvents: 1,
    lastSuccessAt: '2026-01-02T03:00:00.000000Z',
    lastError: null,
    updatedAt: '2026-01-02T03:00:00.000000Z',
    ...overrides,
  };
}

const cond = (o: PolicyObservations, type: string) => {
  const c = policyStatus(o, undefined, NOW).conditions?.find((x) => x.type === type);
  return c && { status: c.status, reason: c.reason };
};

describe('AuditPolicy status', () => {
  it('is Ready when every workload is available, Redis and Postgres answer and no sink fails', () => {
    const status = policyStatus(healthy(), undefined, NOW);
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Ready'],
      ['Ingesting', 'True', 'Ingesting'],
      ['Forwarding', 'True', 'Forwarding'],
      ['RetentionScheduled', 'True', 'Scheduled'],
      ['ExportScheduled', 'False', 'NotConfigured'],
      ['IntegrityVerified', 'Unknown', 'NotYetRun'],
    ]);
    expect(status).toMatchObject({
      observedGeneration: 4,
      workloads: '3/3',
      sinks: '1/1',
      ingestion: { lag: 12, deadLettered: 3 },
    });
    for (const c of status.conditions ?? []) expect(c.observedGeneration).toBe(4);
  });

  it('names the blocker: a missing Secret, an invalid spec or a ledger another policy runs', () => {
    for (const reason of ['SecretNotFound', 'InvalidSpec', 'Conflict'] as const) {
      const status = policyStatus(healthy({ blocker: { reason, message: 'why' } }), undefined, NOW);
      expect(status.conditions?.[0]).toMatchObject({
        type: 'Ready',
        status: 'False',
        reason,
        message: 'why',
      });
      expect(status.workloads).toBeUndefined();
    }
  });

  it('says RedisUnreachable or PostgresUnreachable from the probe', () => {
    const redisDown = healthy({
      probe: { redis: { ok: false, error: 'ECONNREFUSED' }, postgres: { ok: true, sinks: null } },
    });
    expect(cond(redisDown, 'Ready')).toEqual({ status: 'False', reason: 'RedisUnreachable' });
    expect(cond(redisDown, 'Ingesting')).toEqual({ status: 'False', reason: 'RedisUnreachable' });
    const pgDown = healthy({
      probe: { redis: { ok: true, lag: 0, deadLettered: 0 }, postgres: { ok: false, error: 'timeout' } },
    });
    expect(cond(pgDown, 'Ingesting')).toEqual({ status: 'False', reason: 'PostgresUnreachable' });
    expect(cond(pgDown, 'Forwarding')).toEqual({ status: 'Unknown', reason: 'PostgresUnreachable' });
  });

  it('waits for the first probe before saying Ready', () => {
    expect(cond(healthy({ probe: undefined }), 'Ready')).toEqual({
      status: 'Unknown',
      reason: 'NotProbedYet',
    });
    expect(cond(healthy({ probe: undefined, probed: false }), 'Ready')).toEqual({
      status: 'True',
      reason: 'Ready',
    });
  });

  it('reports missing, invalid and failing sinks under Forwarding', () => {
    const missing = healthy({
      sinks: [{ name: 'splunk', problem: { reason: 'SinkNotFound', message: 'AuditSink splunk not found' } }],
    });
    expect(cond(missing, 'Forwarding')).toEqual({ status: 'False', reason: 'SinkNotFound' });
    expect(cond(missing, 'Ready')).toEqual({ status: 'False', reason: 'SinkNotFound' });
    const failing = healthy({
      probe: {
        redis: { ok: true, lag: 0, deadLettered: 0 },
        postgres: {
          ok: true,
          sinks: [
            health({
              breaker: 'open',
              lastError: { at: NOW, kind: 'http', code: 'http_503', message: 'busy' },
            }),
          ],
        },
      },
    });
    const status = policyStatus(failing, undefined, NOW);
    expect(status.conditions?.find((c) => c.type === 'Forwarding')).toMatchObject({
      status: 'False',
      reason: 'SinkFailing',
      message: 'splunk: open (http_503: busy)',
    });
    expect(status.sinks).toBe('0/1');
    expect(cond(healthy({ sinks: [] }), 'Forwarding')).toEqual({ status: 'True', reason: 'NoSinks' });
  });

  it('is not Ready while a workload has no available replica, and says which', () => {
    const o = healthy({
      workloads: [
        { component: 'worker', name: 'p-worker', desired: 1, available: 1 },
        { component: 'forwarder', name: 'p-forwarder', desired: 1, available: 1 },
        { component: 'api', name: 'p-api', desired: 1, available: 0 },
      ],
    });
    const ready = policyStatus(o, undefined, NOW).conditions?.[0];
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'WorkloadsUnavailable',
      message: 'p-api 0/1 available',
    });
    expect(
      cond(
        healthy({ workloads: [{ component: 'worker', name: 'p-worker', desired: 1, available: 0 }] }),
        'Ingesting',
      ),
    ).toEqual({
      status: 'False',
      reason: 'WorkerUnavailable',
    });
  });

  it('reports the last scheduled runs, and IntegrityVerified from the latest verification', () => {
    const failed = healthy({
      jobs: {
        retention: { job: 'p-retention-1', succeeded: true, completionTime: NOW },
        verify: { job: 'p-verify-2', succeeded: false, completionTime: NOW },
      },
    });
    const status = policyStatus(failed, undefined, NOW);
    expect(status.lastRetention).toEqual({ job: 'p-retention-1', succeeded: true, completionTime: NOW });
    expect(status.conditions?.find((c) => c.type === 'IntegrityVerified')).toMatchObject({
      status: 'False',
      reason: 'VerificationFailed',
    });
    expect(status.conditions?.find((c) => c.type === 'RetentionScheduled')?.message).toContain(
      'last run p-retention-1 succeeded',
    );
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it on a flip', () => {
    const first = policyStatus(healthy(), undefined, NOW);
    const again = policyStatus(healthy(), first.conditions, LATER);
    expect(again).toEqual(first);
    const down = policyStatus(
      healthy({ probe: { redis: { ok: false, error: 'x' }, postgres: { ok: true, sinks: null } } }),
      first.conditions,
      LATER,
    );
    const ready = down.conditions?.find((c) => c.type === 'Ready');
    const retention = down.conditions?.find((c) => c.type === 'RetentionScheduled');
    expect(ready?.lastTransitionTime).toBe(LATER);
    expect(retention?.lastTransitionTime).toBe(NOW);
  });
});

describe('condition transitions', () => {
  it('lists conditions whose status or reason changed', () => {
    const before = mergeConditions(
      undefined,
      [
        { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: '' },
        { type: 'Ingesting', status: 'True', reason: 'Ingesting', message: 'lag 1' },
      ],
      1,
      NOW,
    );
    const after = [
      { type: 'Ready', status: 'False' as const, reason: 'SinkNotFound', message: '' },
      { type: 'Ingesting', status: 'True' as const, reason: 'Ingesting', message: 'lag 2' },
    ];
    expect(transitions(before, after).map((t) => [t.type, t.from, t.to.reason])).toEqual([
      ['Ready', 'False', 'SinkNotFound'],
    ]);
  });
});

describe('Events', () => {
  const t = (type: string, from: 'True' | 'False' | undefined, status: 'True' | 'False', reason: string) => ({
    type,
    from,
    to: { type, status, reason, message: reason },
  });

  it('reports Ready reached, problems and regressions, not progress towards Ready', () => {
    expect(eventsFor([t('Ready', undefined, 'False', 'WorkerUnavailable')], 'AuditPolicy')).toEqual([]);
    expect(eventsFor([t('Ready', undefined, 'False', 'SecretNotFound')], 'AuditPolicy')).toEqual([
      { type: 'Warning', reason: 'SecretNotFound', message: 'SecretNotFound' },
    ]);
    expect(eventsFor([t('Ready', 'True', 'False', 'WorkerUnavailable')], 'AuditPolicy')).toEqual([
      { type: 'Warning', reason: 'WorkerUnavailable', message: 'WorkerUnavailable' },
    ]);
    expect(eventsFor([t('Ready', 'False', 'True', 'Ready')], 'AuditPolicy')).toEqual([
      { type: 'Normal', reason: 'Ready', message: 'Ready' },
    ]);
    expect(
      eventsFor([t('IntegrityVerified', 'True', 'False', 'VerificationFailed')], 'AuditPolicy'),
    ).toHaveLength(1);
  });

  it('reports a sink Ready only when it recovers', () => {
    expect(eventsFor([t('Ready', undefined, 'True', 'Valid')], 'AuditSink')).toEqual([]);
    expect(eventsFor([t('Ready', 'False', 'True', 'Valid')], 'AuditSink')).toEqual([
      { type: 'Normal', reason: 'Ready', message: 'Valid' },
    ]);
  });
});

describe('AuditSink status', () => {
  it('sums deliveries and dead letters, takes the largest lag and the latest error over the policies', () => {
    const status = sinkStatus(
      {
        generation: 2,
        policies: ['b', 'a'],
        health: [
          health({ deliveredEvents: 90, lagEvents: 10, deadLetters: 1 }),
          health({
            deliveredEvents: 10,
            lagEvents: 40,
            deadLetters: 2,
            lastSuccessAt: '2026-01-02T03:30:00.000000Z',
            lastError: { at: '2026-01-02T03:20:00.000000Z', kind: 'http', code: 'http_500', message: 'oops' },
          }),
        ],
      },
      undefined,
      NOW,
    );
    expect(status).toMatchObject({
      observedGeneration: 2,
      policies: ['a', 'b'],
      delivered: 100,
      deadLettered: 3,
      lag: 40,
      lastDelivery: '2026-01-02T03:30:00.000000Z',
      lastError: { code: 'http_500', message: 'oops', at: '2026-01-02T03:20:00.000000Z' },
    });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Valid'],
      ['Delivering', 'True', 'Delivering'],
    ]);
  });

  it('is not Ready when its breaker is open or the endpoint disabled it', () => {
    const open = sinkStatus(
      { generation: 1, policies: ['a'], health: [health({ breaker: 'open' })] },
      undefined,
      NOW,
    );
    expect(open.conditions?.map((c) => [c.status, c.reason])).toEqual([
      ['False', 'DeliveryFailing'],
      ['False', 'DeliveryFailing'],
    ]);
    const gone = sinkStatus(
      {
        generation: 1,
        policies: ['a'],
        health: [health({ breaker: 'disabled', disabled: { at: NOW, reason: '410' } })],
      },
      undefined,
      NOW,
    );
    expect(gone.conditions?.[1]).toMatchObject({ status: 'False', reason: 'SinkDisabled' });
  });

  it('says why it cannot be used, and when no policy or forwarder has used it yet', () => {
    const missing = sinkStatus(
      {
        generation: 1,
        policies: [],
        health: [],
        problem: { reason: 'SecretNotFound', message: 'hook/secret' },
      },
      undefined,
      NOW,
    );
    expect(missing.conditions?.[0]).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    const unused = sinkStatus({ generation: 1, policies: [], health: [] }, undefined, NOW);
    expect(unused.conditions?.[1]).toMatchObject({ status: 'Unknown', reason: 'NotReferenced' });
    const waiting = sinkStatus({ generation: 1, policies: ['a'], health: [] }, undefined, NOW);
    expect(waiting.conditions?.[1]).toMatchObject({ status: 'Unknown', reason: 'AwaitingForwarder' });
  });
});
