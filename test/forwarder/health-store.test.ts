// What the API and the operator read (ledger/sinks/health-store.ts), with the ledgerhub_reader role
// only: sink health with live lag, dead letters page by page, replay requests and re-enabling, and the
// sink_not_found error; the reader cannot change forwarder tables except through those two functions.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../../forwarder/delivery-failure.ts';
import { SinkStore } from '../../forwarder/sink-store.ts';
import { createPool } from '../../ledger/db.ts';
import { isLedgerhubError } from '../../ledger/errors.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import {
  enableSink,
  getSinkHealth,
  listDeadLetters,
  listSinkHealth,
  requestReplay,
} from '../../ledger/sinks/health-store.ts';
import { createForwarderFixture, type ForwarderFixture } from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let reader: pg.Pool;

beforeAll(async () => {
  fx = await createForwarderFixture('health');
  reader = createPool({ databaseUrl: fx.ledger.db.url, dbRole: 'ledgerhub_reader', dbMaxConns: 2 });
  const range = await fx.commit(realisticEvents(30, { seed: 61 }), 10);
  const splunk = new SinkStore(fx.ledger.db.pool, 'splunk');
  await splunk.register({ type: 'splunkHec', format: 'caracal', backfill: true });
  await splunk.planBatches(0, [{ first: 1, last: 20, events: 20, bytes: 0, minUs: null, maxUs: null }], 20);
  await splunk.finishBatch(1, {
    delivered: 17,
    deadLettered: 3,
    sha256: 'abc',
    receipt: 'hec 200',
    attempts: 1,
  });
  await splunk.deadLetter(
    [3, 5, 9].map((seq) => ({
      seq,
      eventId: `event-${seq}`,
      occurredAtUs: 1_767_225_600_000_000 + seq,
      batchFirst: 1,
      batchLast: 20,
      failure: failure('data', 'hec_6', 'Invalid data format'),
    })),
  );
  const hooks = new SinkStore(fx.ledger.db.pool, 'hooks');
  await hooks.register({ type: 'webhook', format: 'ocsf', backfill: false });
  await hooks.disable(failure('gone', 'http_410', 'endpoint answered 410 Gone'));
  expect(range.last).toBe(30);
});
afterAll(async () => {
  await reader.end();
  await fx.close();
});

describe('sink health for the API', () => {
  it('lists every sink with counters, last error and lag computed at read time', async () => {
    const sinks = await listSinkHealth(reader);
    expect(sinks.map((s) => s.name)).toEqual(['hooks', 'splunk']);
    const splunk = sinks[1]!;
    expect(splunk).toMatchObject({
      type: 'splunkHec',
      format: 'caracal',
      active: true,
      breaker: 'closed',
      disabled: null,
      deliveredThrough: 20,
      ledgerHead: 30,
      lagEvents: 10,
      deliveredEvents: 17,
      deliveredBatches: 1,
      deadLetters: 3,
      deadLetteredTotal: 3,
      lastError: { kind: 'data', code: 'hec_6', message: 'Invalid data format' },
    });
    expect(splunk.lagSeconds).toBeGreaterThanOrEqual(0);
    expect(splunk.lastSuccessAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('shows one sink, disabled with its reason, or null for an unknown name', async () => {
    expect(await getSinkHealth(reader, 'hooks')).toMatchObject({
      breaker: 'disabled',
      disabled: { reason: 'endpoint answered 410 Gone' },
      lagEvents: 0,
      lagSeconds: 0,
    });
    expect(await getSinkHealth(reader, 'nope')).toBeNull();
  });
});

describe('dead letters for the API', () => {
  it('pages through a sink’s dead letters in ledger order', async () => {
    const first = await listDeadLetters(reader, 'splunk', { limit: 2 });
    expect(first.deadLetters.map((d) => d.ledgerSeq)).toEqual([3, 5]);
    expect(first.deadLetters[0]).toMatchObject({
      eventId: 'event-3',
      batch: { firstSeq: 1, lastSeq: 20 },
      error: { kind: 'data', code: 'hec_6' },
      attempts: 1,
      replayRequestedAt: null,
    });
    expect(first.nextAfterSeq).toBe(5);
    const second = await listDeadLetters(reader, 'splunk', { limit: 2, afterSeq: first.nextAfterSeq! });
    expect(second.deadLetters.map((d) => d.ledgerSeq)).toEqual([9]);
    expect(second.nextAfterSeq).toBeNull();
  });

  it('asks for a replay of the oldest ones, up to a limit, and not twice', async () => {
    expect(await requestReplay(reader, 'splunk', { limit: 2 })).toBe(2);
    expect(await requestReplay(reader, 'splunk')).toBe(1);
    expect(await requestReplay(reader, 'splunk')).toBe(0);
    const page = await listDeadLetters(reader, 'splunk');
    expect(page.deadLetters.every((d) => d.replayRequestedAt !== null)).toBe(true);
  });

  it('re-enables a disabled sink', async () => {
    await enableSink(reader, 'hooks');
    expect(await getSinkHealth(reader, 'hooks')).toMatchObject({ disabled: null, breaker: 'closed' });
  });

  it('answers sink_not_found for a sink that does not exist', async () => {
    for (const call of [
      () => listDeadLetters(reader, 'nope'),
      () => requestReplay(reader, 'nope'),
      () => enableSink(reader, 'nope'),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(isLedgerhubError(err) && err.code).toBe('sink_not_found');
    }
  });

  it('gives the reader role no other way to change forwarder state', async () => {
    await expect(
      reader.query("UPDATE forwarder_sinks SET delivered_through = 0 WHERE sink = 'splunk'"),
    ).rejects.toThrow(/permission denied/);
    await expect(reader.query('DELETE FROM forwarder_dead_letters')).rejects.toThrow(/permission denied/);
  });
});
