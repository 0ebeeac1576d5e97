import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { startWorker } from '../../worker/main.ts';
import { trimAcknowledged } from '../../worker/stream.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('housekeeping');
});
afterAll(async () => fx.close());

describe('stream housekeeping', () => {
  it('reclaims messages a dead consumer left pending and stores them', async () => {
    await fx.redis.xgroup('CREATE', fx.stream, 'audit-ingestor', '0', 'MKSTREAM');
    const events = realisticEvents(20, { seed: 12 });
    for (const e of events) await fx.xadd(e);
    // a consumer that reads and dies without acknowledging
    await fx.redis.xreadgroup('GROUP', 'audit-ingestor', 'dead-pod', 'COUNT', 100, 'STREAMS', fx.stream, '>');
    const worker = await startWorker(fx.workerConfig({ AUDIT_CLAIM_IDLE_SECS: '1' }));
    await waitFor('reclaimed and stored', async () => (await fx.storedCount()) === events.length, 30_000);
    const reclaimed = (await worker.metrics.reclaimed.get()).values[0]?.value;
    await worker.stop();
    expect(reclaimed).toBe(events.length);
    const pending = (await fx.redis.xpending(fx.stream, 'audit-ingestor')) as [number];
    expect(pending[0]).toBe(0);
  });

  it('dead-letters (replayable) a message that was delivered more often than AUDIT_MAX_DELIVERIES', async () => {
    const [poison] = realisticEvents(1, { seed: 13 });
    const streamId = await fx.xadd(poison!);
    // delivered once, then claimed by five more consumers that each crashed on it
    await fx.redis.xreadgroup('GROUP', 'audit-ingestor', 'crashed-0', 'COUNT', 1, 'STREAMS', fx.stream, '>');
    for (let i = 1; i <= 5; i++)
      await fx.redis.xclaim(fx.stream, 'audit-ingestor', `crashed-${i}`, 0, streamId);
    const worker = await startWorker(
      fx.workerConfig({ AUDIT_CLAIM_IDLE_SECS: '1', AUDIT_MAX_DELIVERIES: '3' }),
    );
    const dead = await waitFor('dead-lettered', async () =>
      (await fx.dlqEntries()).find((d) => d.fields.src_stream_id === streamId),
    );
    await worker.stop();
    expect(dead.fields.reason).toMatch(
      /^transient_exceeded_max_deliveries:delivered \d+ times without being stored$/,
    );
  });

  it('trims only below what every consumer group acknowledged, never by length', async () => {
    const lenBefore = await fx.redis.xlen(fx.stream);
    // another group (e.g. Caracal's provisioned siem-export) that has read nothing yet
    await fx.redis.xgroup('CREATE', fx.stream, 'siem-export', '0');
    expect(await trimAcknowledged(fx.redis, fx.stream)).toBe(0);
    expect(await fx.redis.xlen(fx.stream)).toBe(lenBefore);
    await fx.redis.xgroup('DESTROY', fx.stream, 'siem-export');
    // our group acknowledged everything: all but the last delivered entry may go
    const trimmed = await trimAcknowledged(fx.redis, fx.stream);
    expect(await fx.redis.xlen(fx.stream)).toBe(lenBefore - trimmed);
    expect(await fx.redis.xlen(fx.stream)).toBeGreaterThanOrEqual(1);
  });
});
