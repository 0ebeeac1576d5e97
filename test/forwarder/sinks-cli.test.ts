// `ledgerhub sinks` and `ledgerhub forwarder` as an operator runs them: readable tables, --json, and the
// documented exit codes (0 done, 1 sink not found, 2 bad usage, 3 invalid configuration).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../../forwarder/delivery-failure.ts';
import { SinkStore } from '../../forwarder/sink-store.ts';
import { createForwarderFixture, type ForwarderFixture } from './support/forwarder-fixture.ts';

const run = promisify(execFile);
let fx: ForwarderFixture;

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['cli/ledgerhub.ts', ...args], {
      env: { ...process.env, DATABASE_URL: fx.ledger.db.url, LEDGERHUB_DB_ROLE: 'ledgerhub_reader', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  fx = await createForwarderFixture('sinks-cli');
  const store = new SinkStore(fx.ledger.db.pool, 'splunk-prod');
  await store.register({ type: 'splunkHec', format: 'caracal', backfill: true });
  await store.deadLetter([
    {
      seq: 4,
      eventId: 'evt-4',
      occurredAtUs: 1_767_225_600_000_000,
      batchFirst: 1,
      batchLast: 10,
      failure: failure('auth', 'hec_4', 'Invalid token'),
    },
  ]);
});
afterAll(async () => {
  await fx.close();
});

describe('ledgerhub sinks', () => {
  it('lists sinks as a table', async () => {
    const r = await cli(['sinks', 'ls']);
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+TYPE\s+STATE\s+DELIVERED\s+LAG\s+LAG_S\s+DEAD/);
    expect(row).toMatch(
      /^splunk-prod\s+splunkHec\s+delivering\s+0\s+0\s+0\.0\s+1\s+-\s+hec_4: Invalid token/,
    );
  });

  it('shows one sink, as text or JSON', async () => {
    const text = await cli(['sinks', 'show', 'splunk-prod']);
    expect(text.stdout).toMatch(/dead letters\s+1 now, 1 ever, 0 replayed/);
    const json = await cli(['sinks', 'show', 'splunk-prod', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'splunk-prod',
      deadLetters: 1,
      lastError: { kind: 'auth' },
    });
  });

  it('lists dead letters and asks for their replay', async () => {
    const dlq = await cli(['sinks', 'dlq', 'splunk-prod', '--json']);
    expect(JSON.parse(dlq.stdout).deadLetters).toMatchObject([
      { ledgerSeq: 4, eventId: 'evt-4', error: { code: 'hec_4' } },
    ]);
    const table = await cli(['sinks', 'dlq', 'splunk-prod']);
    expect(table.stdout).toMatch(/^4\s+evt-4\s+1-10\s+auth\s+hec_4/m);
    const replay = await cli(['sinks', 'replay', 'splunk-prod', '--limit', '10']);
    expect(replay).toMatchObject({ code: 0 });
    expect(replay.stdout).toMatch(/splunk-prod: 1 dead letter\(s\) handed to the forwarder/);
  });

  it('exits 1 for an unknown sink, 2 for bad usage', async () => {
    expect(await cli(['sinks', 'show', 'nope'])).toMatchObject({ code: 1 });
    expect((await cli(['sinks', 'replay', 'nope'])).stderr).toMatch(/no sink named nope \[sink_not_found\]/);
    expect(await cli(['sinks', 'frobnicate'])).toMatchObject({ code: 2 });
    expect(await cli(['sinks', 'dlq'])).toMatchObject({ code: 2 });
    expect(await cli(['sinks', 'dlq', 'splunk-prod', '--limit', 'ten'])).toMatchObject({ code: 2 });
  });
});

describe('ledgerhub forwarder', () => {
  it('refuses an invalid sinks file with exit code 3, naming the file and the problem', async () => {
    const path = join(fx.secretsDir, 'bad-sinks.json');
    writeFileSync(path, JSON.stringify({ sinks: [{ name: 'x', spec: { type: 'webhook' } }] }));
    const r = await cli(['forwarder'], {
      LEDGERHUB_SINKS_FILE: path,
      REDIS_URL: fx.env.REDIS_URL!,
      LEDGERHUB_DB_ROLE: '',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /LEDGERHUB_SINKS_FILE=.*bad-sinks.json: sinks.0.spec.webhook: type is webhook, so the webhook block is required/,
    );
  });
});
