import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { startWorker } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { startRole } from '../support/role-process.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
beforeAll(async () => {
  fx = await createLedgerFixture('lifecycle');
});
afterAll(async () => fx.close());

describe('worker lifecycle and probes', () => {
  it('finishes the batch in flight on SIGTERM, acknowledges it and exits 0', async () => {
    const events = realisticEvents(3000, { seed: 21 });
    for (let i = 0; i < events.length; i += 500)
      await Promise.all(events.slice(i, i + 500).map((e) => fx.xadd(e)));
    const p = startRole('worker', { ...fx.env, AUDIT_BATCH_SIZE: '500' });
    await waitFor('first commit', async () => (await fx.storedCount()) > 0, 30_000, 5);
    p.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(p.logs.map((l) => l.msg)).toContain('worker stopped');
    // whatever it stored, it acknowledged; whatever it read but did not store is still pending for the next run
    const stored = await fx.storedCount();
    const pending = ((await fx.redis.xpending(fx.stream, 'audit-ingestor')) as [number])[0];
    const acked =
      events.length -
      (await fx.redis.xinfo('GROUPS', fx.stream).then((g) => Number((g as unknown[][])[0]![11]))) -
      pending;
    expect(stored).toBeGreaterThan(0);
    expect(acked).toBe(stored);
    const again = startRole('worker', { ...fx.env, AUDIT_BATCH_SIZE: '500' });
    await waitFor('the rest stored', async () => (await fx.storedCount()) === events.length, 60_000);
    again.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  it('serves /health, /ready with Caracal reasons, and /metrics behind METRICS_BEARER', async () => {
    const worker = await startWorker(
      fx.workerConfig({ METRICS_BEARER: 'scrape-me', AUDIT_READY_DLQ_MAX: '1' }),
    );
    const base = `http://127.0.0.1:${worker.port}`;
    expect((await request(`${base}/health`)).statusCode).toBe(200);
    const ready = await request(`${base}/ready`);
    expect(await ready.body.json()).toEqual({ ready: true });

    const denied = await request(`${base}/metrics`);
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="caracal-audit"');
    await denied.body.dump();
    const wrong = await request(`${base}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    const metrics = await request(`${base}/metrics`, { headers: { authorization: 'Bearer scrape-me' } });
    const text = await metrics.body.text();
    for (const name of [
      'caracal_audit_inserts_total',
      'caracal_audit_consumer_lag',
      'caracal_audit_consumer_pel_oldest_seconds',
      'caracal_audit_dlq_size',
      'caracal_audit_parse_errors_total',
      'caracal_audit_dlq_total',
      'caracal_audit_retries_total',
      'caracal_audit_hmac_failures_total',
      'ledgerhub_ingest_batch_size_bucket',
      'ledgerhub_ingest_commit_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }

    // two unsigned messages push the DLQ over AUDIT_READY_DLQ_MAX=1
    for (const e of realisticEvents(2, { seed: 22 })) await fx.xadd(e, { sign: false });
    await waitFor('not ready', async () => {
      const r = await request(`${base}/ready`);
      if (r.statusCode === 503) return r.body.json();
      await r.body.dump();
      return undefined;
    }).then((body) => expect(body).toMatchObject({ ready: false, reason: 'audit_dlq_threshold' }));
    await worker.stop();
  });

  it('refuses to start in production mode without an HMAC key', async () => {
    await expect(
      startWorker(fx.workerConfig({ LEDGERHUB_MODE: 'production', AUDIT_HMAC_KEY: '' })),
    ).rejects.toThrow(/AUDIT_HMAC_KEY is required in production mode/);
    const p = startRole('worker', { ...fx.env, CARACAL_MODE: 'stable', AUDIT_HMAC_KEY: '' });
    expect((await p.exited).code).toBe(3);
    expect(p.stderr.join('\n')).toMatch(/AUDIT_HMAC_KEY is required in production mode .*\[config_invalid\]/);
  });

  it('exits with code 3 and names the key when configuration is invalid', async () => {
    const p = startRole('worker', { ...fx.env, AUDIT_BATCH_SIZE: 'lots' });
    expect((await p.exited).code).toBe(3);
    expect(p.stderr.join('\n')).toContain(
      'AUDIT_BATCH_SIZE="lots" is not valid: expected an integer from 1 to 10000',
    );
  });
});
