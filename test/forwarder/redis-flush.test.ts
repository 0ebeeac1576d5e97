// Redis flushed (FLUSHALL) while the forwarder runs: the queues are rebuilt from the cursors and the
// batch plan in Postgres, and every event still arrives. Runs on a Redis server of its own, since
// FLUSHALL would wipe what other test files keep in the shared one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { createRedis } from '../../ledger/redis.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type RunningService, startRedis } from '../support/local-services.ts';
import { type SplunkHecReceiver, startSplunkHec } from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  expectNoneLost,
  type ForwarderFixture,
  hecSeqs,
  hecSinkEntry,
} from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let hec: SplunkHecReceiver;
let redis: RunningService;
let forwarder: ForwarderHandle;
const dir = mkdtempSync(join(tmpdir(), 'ledgerhub-flush-redis-'));

beforeAll(async () => {
  fx = await createForwarderFixture('flush');
  hec = await startSplunkHec();
  redis = await startRedis({ dir });
});
afterAll(async () => {
  await forwarder?.stop();
  await fx.close();
  await hec.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis flushed while running', () => {
  it('rebuilds the queues from Postgres and loses nothing', async () => {
    forwarder = await fx.start(
      [hecSinkEntry(fx, hec, 'splunk', { spec: { batch: { events: 20, waitMs: 0 }, concurrency: 2 } })],
      {
        REDIS_URL: redis.url,
      },
    );
    hec.faults.slow(100);
    const range = await fx.commit(realisticEvents(400, { seed: 51 }), 50);
    await waitFor('deliveries under way', () => hec.acceptedCount >= 60, 30_000);

    const admin = createRedis(redis.url, 'test-flush');
    await admin.flushall();
    const { rows } = await fx.ledger.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM forwarder_batches WHERE sink = 'splunk' AND state = 'pending'",
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    hec.faults.slow(0);

    await waitFor(
      'caught up',
      async () => (await fx.health('splunk')).deliveredThrough === range.last,
      60_000,
    );
    const keys = await admin.keys(`${fx.prefix}:splunk:*`);
    admin.disconnect();
    expect(keys.length).toBeGreaterThan(0);
    const { delivered, dead } = await expectNoneLost(fx, 'splunk', range, hecSeqs(hec));
    expect(delivered.size).toBe(400);
    expect(dead.size).toBe(0);
  });
});
