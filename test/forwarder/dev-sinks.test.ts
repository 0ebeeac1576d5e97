// The dev-stack hook (`ledgerhub dev`): three local receivers and a forwarder delivering to them, so a
// newcomer sees delivery happen; it writes a sinks file that doubles as an example.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevForwarding, startDevForwarding } from '../../forwarder/dev-sinks.ts';
import { silentLogger } from '../../ledger/runtime/log.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { parseSinksFile } from '../../ledger/sinks/sinks-file.ts';
import { waitFor } from '../support/wait.ts';
import { createForwarderFixture, type ForwarderFixture } from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let dev: DevForwarding;

beforeAll(async () => {
  fx = await createForwarderFixture('dev');
  dev = await startDevForwarding({
    redisUrl: fx.env.REDIS_URL!,
    databaseUrl: fx.ledger.db.url,
    log: silentLogger(),
  });
});
afterAll(async () => {
  await dev.stop();
  await fx.close();
});

describe('dev forwarding', () => {
  it('delivers committed events to all three local receivers', async () => {
    const events = realisticEvents(300, { seed: 71 });
    const denials = events.filter((e) => e.decision === 'deny' || e.decision === 'rejected').length;
    expect(denials).toBeGreaterThan(0);
    await fx.commit(events, 100);
    await waitFor(
      'all three received',
      () => {
        const c = dev.counts();
        return c.splunkHecEvents === 300 && c.elasticsearchDocuments === 300 && c.webhookBatches > 0;
      },
      30_000,
    );
    expect(Object.values(dev.urls).every((u) => u.startsWith('http://127.0.0.1:'))).toBe(true);
  });

  it('runs from a sinks file that validates as documented', () => {
    const sinks = parseSinksFile(readFileSync(dev.sinksFile, 'utf8'), dev.sinksFile);
    expect(sinks.map((s) => [s.name, s.spec.type])).toEqual([
      ['dev-splunk', 'splunkHec'],
      ['dev-elastic', 'elasticsearch'],
      ['dev-webhook', 'webhook'],
    ]);
  });
});
