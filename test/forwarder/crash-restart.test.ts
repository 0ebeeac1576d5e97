// The forwarder process killed with SIGKILL in the middle of deliveries, then started again: every event
// still reaches the sink (at least once: what was in flight is delivered again), none is lost.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
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
const children: ChildProcess[] = [];

beforeAll(async () => {
  fx = await createForwarderFixture('crash');
  hec = await startSplunkHec();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fx.close();
  await hec.stop();
});

function startProcess(sinksFile: string): ChildProcess {
  const child = spawn(process.execPath, ['cli/ledgerhub.ts', 'forwarder'], {
    env: {
      ...process.env,
      ...fx.env,
      LEDGERHUB_SINKS_FILE: sinksFile,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

describe('a forwarder killed mid-delivery', () => {
  it('delivers everything after a restart', async () => {
    const entry = hecSinkEntry(fx, hec, 'splunk', {
      spec: { batch: { events: 20, waitMs: 0 }, concurrency: 2 },
    });
    const sinksFile = join(fx.secretsDir, 'sinks.json');
    writeFileSync(sinksFile, JSON.stringify({ sinks: [entry] }));
    const range = await fx.commit(realisticEvents(400, { seed: 41 }), 50);

    hec.faults.slow(150);
    const first = startProcess(sinksFile);
    await waitFor('deliveries under way', () => hec.acceptedCount >= 60, 30_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const before = await fx.health('splunk');
    expect(before.deliveredThrough).toBeLessThan(range.last);

    hec.faults.slow(0);
    const second = startProcess(sinksFile);
    await waitFor(
      'caught up after the restart',
      async () => (await fx.health('splunk')).deliveredThrough === range.last,
      60_000,
    );
    second.kill('SIGTERM');
    const code = await new Promise((r) => second.once('exit', r));
    expect(code).toBe(0);
    const { delivered, dead } = await expectNoneLost(fx, 'splunk', range, hecSeqs(hec));
    expect(delivered.size).toBe(400);
    expect(dead.size).toBe(0);
  });
});
