// Webhooks under the strict receiver's fault switches: 410 disables the sink until it is re-enabled,
// redirects are never followed, 5xx with Retry-After is retried with the same webhook-id, bad signatures
// surface as an auth error, custom headers go along. Each test counts: none lost.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { enableSink, requestReplay } from '../../ledger/sinks/health-store.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  expectNoneLost,
  type ForwarderFixture,
  webhookSinkEntry,
} from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let hooks: WebhookReceiver;
let forwarder: ForwarderHandle | undefined;
let seed = 500;
let sinkNo = 0;

beforeAll(async () => {
  fx = await createForwarderFixture('webhook-faults');
  hooks = await startWebhookReceiver();
});
afterAll(async () => {
  await fx.close();
  await hooks.stop();
});
beforeEach(async () => {
  await hooks.faults.reset();
  hooks.clear();
});
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
});

async function startSink(extra: Parameters<typeof webhookSinkEntry>[3] = {}) {
  const name = `hook-${++sinkNo}`;
  forwarder = await fx.start([
    webhookSinkEntry(fx, hooks, name, {
      ...extra,
      spec: { backfill: false, batch: { events: 10, waitMs: 0 }, ...extra.spec },
    }),
  ]);
  return name;
}

async function commit(n: number) {
  return fx.commit(realisticEvents(n, { seed: seed++ }), 25);
}

function receivedSeqs(): number[] {
  return hooks
    .deliveries()
    .flatMap((d) => (d.body as { events: { ledger_seq: number }[] }).events.map((e) => e.ledger_seq));
}

async function caughtUp(sink: string, through: number) {
  await waitFor(
    `${sink} delivered through ${through}`,
    async () => (await fx.health(sink)).deliveredThrough >= through,
    30_000,
  );
}

describe('webhook faults', () => {
  it('disables the sink on 410 Gone, keeps its events waiting, and resumes when re-enabled', async () => {
    const sink = await startSink({ spec: { concurrency: 1 } });
    hooks.respondWith({ status: 410 });
    const range = await commit(25);
    await waitFor('disabled', async () => (await fx.health(sink)).disabled !== null, 20_000);
    const h = await fx.health(sink);
    expect(h.breaker).toBe('disabled');
    expect(h.lastError).toMatchObject({ kind: 'gone', code: 'http_410' });
    expect(h.deadLetters).toBe(0);
    expect(forwarder!.runners.get(sink)!.breakerState).toBe('disabled');
    expect(h.deliveredThrough).toBeLessThan(range.last);
    expect(hooks.deliveries()).toEqual([]);
    hooks.respondWith(undefined);

    await enableSink(fx.ledger.db.pool, sink);
    await caughtUp(sink, range.last);
    const { dead } = await expectNoneLost(fx, sink, range, receivedSeqs());
    expect(dead.size).toBe(0);
    expect((await fx.health(sink)).disabled).toBeNull();
  });

  it('never follows a redirect: it is a configuration error in health', async () => {
    const sink = await startSink({ spec: { concurrency: 1 } });
    hooks.respondWith({ status: 302, location: 'http://127.0.0.1:1/elsewhere' });
    const range = await commit(10);
    await waitFor('config error', async () => (await fx.health(sink)).lastError?.code === 'http_302', 20_000);
    expect((await fx.health(sink)).lastError?.message).toMatch(/redirects are not followed/);
    expect(hooks.attempts().every((a) => a.path === '/audit')).toBe(true);
    hooks.respondWith(undefined);
    await caughtUp(sink, range.last);
    await expectNoneLost(fx, sink, range, receivedSeqs());
  });

  it('retries 503 with Retry-After under the same webhook-id', async () => {
    const sink = await startSink({ spec: { batch: { events: 100, waitMs: 0 } } });
    hooks.respondWith({ status: 503, retryAfter: 0 });
    const range = await commit(8);
    await waitFor('two refused attempts', () => hooks.attempts().length >= 2, 10_000);
    hooks.respondWith(undefined);
    await caughtUp(sink, range.last);
    const attempts = hooks.attempts();
    expect(attempts.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(2);
    expect(attempts.at(-1)!.status).toBe(204);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(new Set(attempts.map((a) => a.headers['webhook-timestamp'])).size).toBeGreaterThanOrEqual(1);
    await expectNoneLost(fx, sink, range, receivedSeqs());
  });

  it('surfaces a signature the endpoint refuses as an auth error within one attempt', async () => {
    const sink = await startSink({ spec: { concurrency: 1 } });
    hooks.faults.badCredentials();
    const range = await commit(10);
    await waitFor('auth error', async () => (await fx.health(sink)).lastError?.kind === 'auth', 20_000);
    expect((await fx.health(sink)).lastError?.code).toBe('http_401');
    await hooks.faults.reset();
    await caughtUp(sink, range.last);
    await expectNoneLost(fx, sink, range, receivedSeqs());
  });

  it('sends custom headers and Secret-backed headers with every request', async () => {
    const token = fx.writeSecret('hook-auth', 'bearer', 'Bearer s3cret');
    const sink = await startSink({
      webhook: { headers: { 'x-tenant': 'acme' }, secretHeaders: { authorization: token } },
    });
    const range = await commit(5);
    await caughtUp(sink, range.last);
    const d = hooks.deliveries()[0]!;
    expect(d.headers['x-tenant']).toBe('acme');
    expect(d.headers.authorization).toBe('Bearer s3cret');
    expect(d.headers['content-type']).toBe('application/json');
  });

  it('delivers through an outage and a slow endpoint, deduplicated by webhook-id', async () => {
    const sink = await startSink({ spec: { timeoutMs: 300 } });
    await hooks.faults.down();
    const range = await commit(20);
    await waitFor('paused', async () => (await fx.health(sink)).breaker === 'open', 20_000);
    hooks.faults.slow(600);
    await hooks.faults.up();
    await waitFor('a delivery stored while the client timed out', () => hooks.deliveredCount > 0, 10_000);
    hooks.faults.slow(0);
    await caughtUp(sink, range.last);
    expect(hooks.duplicates().length).toBeGreaterThan(0);
    const { dead } = await expectNoneLost(fx, sink, range, receivedSeqs());
    expect(dead.size).toBe(0);
  });

  it('pauses on a Secret that is not mounted, dead-letters nothing, and resumes once it is', async () => {
    const sink = await startSink({ webhook: { signingSecret: { name: 'not-yet-mounted', key: 'secret' } } });
    const range = await commit(10);
    await waitFor(
      'secret error',
      async () => (await fx.health(sink)).lastError?.code === 'sink_secret_missing',
      20_000,
    );
    expect((await fx.health(sink)).lastError?.kind).toBe('local');
    expect(await fx.deadLetters(sink)).toEqual([]);
    fx.writeSecret('not-yet-mounted', 'secret', hooks.secret);
    await caughtUp(sink, range.last);
    const { dead } = await expectNoneLost(fx, sink, range, receivedSeqs());
    expect(dead.size).toBe(0);
  });

  it('keeps to the sink’s rate limit', async () => {
    const sink = await startSink({
      spec: { batch: { events: 2, waitMs: 0 }, rateLimit: { requests: 2, periodMs: 500 } },
    });
    const range = await commit(12);
    await caughtUp(sink, range.last);
    const times = hooks.attempts().map((a) => a.receivedAt.getTime());
    expect(times).toHaveLength(6);
    for (let i = 2; i < times.length; i++) {
      expect(times[i]! - times[i - 2]!, `requests ${i - 2} and ${i}`).toBeGreaterThanOrEqual(400);
    }
  });

  it('picks up a rotated signing secret from the mounted Secret without a restart', async () => {
    const sink = await startSink({ spec: { concurrency: 1 } });
    const next = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    hooks.faults.rotateSecret(next);
    const range = await commit(10);
    await waitFor('auth error', async () => (await fx.health(sink)).lastError?.kind === 'auth', 20_000);
    fx.writeSecret(`${sink}-secret`, 'secret', next);
    await caughtUp(sink, range.last);
    await requestReplay(fx.ledger.db.pool, sink);
    await waitFor('replayed', async () => (await fx.deadLetters(sink)).length === 0, 20_000);
    const { dead } = await expectNoneLost(fx, sink, range, receivedSeqs());
    expect(dead.size).toBe(0);
  });
});
