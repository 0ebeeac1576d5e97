// The operator's view of the ledgers themselves (real Redis and Postgres): ingestion lag and DLQ size on
// the policy, the forwarder's sink records on the AuditSink (deliveries, lag, errors, a failing
// breaker), and RedisUnreachable / PostgresUnreachable while every other policy stays Ready.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../ledger/redis.ts';
import { INGEST_GROUP } from '../../ledger/stream-codec.ts';
import { freePort } from '../support/local-services.ts';
import { createTestDatabase, redisUrl, type TestDatabase } from '../support/test-services.ts';
import { waitFor } from '../support/wait.ts';
import {
  basicPolicy,
  type OperatorFixture,
  startOperatorFixture,
  WEBHOOK_SECRET,
  webhookSink,
} from './operator-fixture.ts';

let fx: OperatorFixture;
let db: TestDatabase;
let redis: Redis;
const stream = `op-health.${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createRedis(redisUrl(), 'sink-health-test');
  fx = await startOperatorFixture({
    LEDGERHUB_OPERATOR_PROBE_INTERVAL_SECS: '1',
    LEDGERHUB_OPERATOR_PROBE_TIMEOUT_MS: '5000',
  });
  fx.secret('hook', { secret: WEBHOOK_SECRET });
  fx.sink('hook', webhookSink());
});

afterAll(async () => {
  await fx.stop();
  redis.disconnect();
  await db.drop();
});

const ledgerFor = (postgres: string, redisAt = redisUrl()) => ({
  redis: redisAt,
  postgres,
  hmac: 'ab'.repeat(32),
});

function policySpec(secret: string) {
  return basicPolicy(secret, {
    ledger: { ...basicPolicy(secret).ledger, stream: `${stream}.events`, dlqStream: `${stream}.dlq` },
    sinks: [{ sinkRef: { name: 'hook' } }],
  });
}

describe('ledger health in status', () => {
  it('shows ingestion lag and the DLQ size on a Ready policy', async () => {
    for (let i = 0; i < 5; i++) await redis.xadd(`${stream}.events`, '*', 'id', `e${i}`, 'data', '{}');
    await redis.xgroup('CREATE', `${stream}.events`, INGEST_GROUP, '0');
    for (let i = 0; i < 2; i++) await redis.xadd(`${stream}.dlq`, '*', 'reason', 'parse_error');
    fx.secret('live-ledger', ledgerFor(db.url));
    fx.policy('live', policySpec('live-ledger'));
    await waitFor('live Deployments', () => fx.owned('apps/v1', 'Deployment', 'live-forwarder'), 10_000);
    await fx.idle();
    fx.makeAvailable('live');
    await fx.waitFor('AuditPolicy', 'live', 'Ready', 'True');
    expect(fx.get('AuditPolicy', 'live').status.ingestion).toEqual({ lag: 5, deadLettered: 2 });
    expect(fx.condition('AuditPolicy', 'live', 'Ingesting')?.message).toBe(
      '5 entries waiting, 2 dead-lettered',
    );
  });

  it("fills the AuditSink's status from the forwarder's sink record", async () => {
    await db.pool.query('UPDATE audit_ledger_state SET last_ledger_seq = 50');
    await db.pool.query(
      `INSERT INTO forwarder_sinks (sink, sink_type, format, delivered_through, enqueued_through, delivered_events,
         delivered_batches, last_success_at)
       VALUES ('hook', 'webhook', 'caracal', 42, 42, 42, 3, '2026-01-02T03:04:05Z')`,
    );
    await waitFor(
      'deliveries on the sink',
      () => fx.get('AuditSink', 'hook').status?.delivered === 42 || undefined,
      15_000,
    );
    expect(fx.get('AuditSink', 'hook').status).toMatchObject({
      policies: ['live'],
      delivered: 42,
      lag: 8,
      deadLettered: 0,
      lastDelivery: '2026-01-02T03:04:05.000000Z',
    });
    await fx.waitFor('AuditSink', 'hook', 'Delivering', 'True', 'Delivering');
  });

  it('marks the sink and the policy when the sink fails, naming the error', async () => {
    await db.pool.query(
      `UPDATE forwarder_sinks SET breaker_state = 'open', last_error_at = now(), last_error_kind = 'http',
         last_error_code = 'http_503', last_error_message = 'Service Unavailable' WHERE sink = 'hook'`,
    );
    const sink = await fx.waitFor('AuditSink', 'hook', 'Ready', 'False', 'DeliveryFailing');
    expect(sink.message).toBe('http_503: Service Unavailable');
    expect(fx.get('AuditSink', 'hook').status.lastError).toMatchObject({
      code: 'http_503',
      message: 'Service Unavailable',
    });
    await fx.waitFor('AuditPolicy', 'live', 'Forwarding', 'False', 'SinkFailing');
    await fx.waitFor('AuditPolicy', 'live', 'Ready', 'False', 'SinkFailing');
    await waitFor('the sink-failing gauge', async () => {
      const failing = (await fx.op.metrics.sinkFailing.get()).values.find((v) => v.labels.sink === 'hook');
      return failing?.value === 1 || undefined;
    });
    await db.pool.query(`UPDATE forwarder_sinks SET breaker_state = 'closed' WHERE sink = 'hook'`);
    await fx.waitFor('AuditPolicy', 'live', 'Ready', 'True');
  });

  it('says which store is unreachable and keeps every other policy Ready', async () => {
    const closed = await freePort();
    fx.secret(
      'noredis-ledger',
      ledgerFor(db.url.replace(/\/[^/]+$/, '/noredis'), `redis://127.0.0.1:${closed}`),
    );
    fx.policy('noredis', basicPolicy('noredis-ledger'));
    const redisDown = await fx.waitFor('AuditPolicy', 'noredis', 'Ready', 'False', 'RedisUnreachable');
    expect(redisDown.message).toContain(`Redis at 127.0.0.1:${closed}`);
    expect(redisDown.message).not.toContain('redis://');

    fx.secret('nopg-ledger', ledgerFor(`postgres://postgres:secret@127.0.0.1:${closed}/nopg`));
    fx.policy('nopg', basicPolicy('nopg-ledger'));
    const pgDown = await fx.waitFor('AuditPolicy', 'nopg', 'Ingesting', 'False', 'PostgresUnreachable');
    expect(pgDown.message).toContain(`Postgres at 127.0.0.1:${closed}`);
    expect(pgDown.message).not.toContain('secret');

    expect(fx.condition('AuditPolicy', 'live', 'Ready')).toMatchObject({ status: 'True' });
  });
});
