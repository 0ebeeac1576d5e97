// Splunk HEC under every fault switch of the strict receiver. Each test counts: every event delivered or
// dead-lettered, none lost. Each test runs its own sink (own cursor and queue) starting at the head.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { requestReplay } from '../../ledger/sinks/health-store.ts';
import { type SplunkHecReceiver, startSplunkHec } from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  expectNoneLost,
  type ForwarderFixture,
  hecSeqs,
  hecSinkEntry,
} from './support/forwarder-fixture.ts';

const ACK_TOKEN = '00000000-0000-4000-8000-00000000ac00';
let fx: ForwarderFixture;
let hec: SplunkHecReceiver;
let forwarder: ForwarderHandle | undefined;
let seed = 100;
let sinkNo = 0;

beforeAll(async () => {
  fx = await createForwarderFixture('hec-faults');
  hec = await startSplunkHec({
    tokens: {
      '11111111-2222-4333-8444-555555555555': { indexes: ['main', 'audit'] },
      [ACK_TOKEN]: { ack: true },
    },
  });
});
afterAll(async () => {
  await fx.close();
  await hec.stop();
});
beforeEach(async () => {
  await hec.faults.reset();
  hec.clear();
});
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
});

/** A fresh sink (own cursor, starting at the ledger head) delivering to the receiver. */
async function startSink(
  extra: Parameters<typeof hecSinkEntry>[3] = {},
  overrides: Record<string, string> = {},
) {
  const name = `hec-${++sinkNo}`;
  const entry = hecSinkEntry(fx, hec, name, {
    ...extra,
    spec: { backfill: false, batch: { events: 20, waitMs: 20 }, ...extra.spec },
  });
  forwarder = await fx.start([entry], overrides);
  return name;
}

async function commit(n: number) {
  return fx.commit(realisticEvents(n, { seed: seed++ }), 25);
}

async function caughtUp(sink: string, through: number, timeoutMs = 30_000) {
  await waitFor(
    `${sink} delivered through ${through}`,
    async () => (await fx.health(sink)).deliveredThrough >= through,
    timeoutMs,
  );
}

describe('Splunk HEC faults', () => {
  it('rides out an outage: the sink is paused and probed, then every event arrives', async () => {
    const sink = await startSink();
    await hec.faults.down();
    const range = await commit(60);
    await waitFor('breaker open', async () => (await fx.health(sink)).breaker === 'open', 20_000);
    const paused = await fx.health(sink);
    // a fresh connection is refused; a pooled keep-alive socket the outage dropped is reset instead
    expect(paused.lastError).toMatchObject({
      kind: 'transient',
      code: expect.stringMatching(/^(ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|EPIPE)$/),
    });
    expect(paused.deadLetters).toBe(0);
    await hec.faults.up();
    await caughtUp(sink, range.last);
    const { dead } = await expectNoneLost(fx, sink, range, hecSeqs(hec));
    expect(dead.size).toBe(0);
    expect((await fx.health(sink)).breaker).toBe('closed');
  });

  it('resends after a 503 storm with HEC’s busy code and loses nothing', async () => {
    const sink = await startSink();
    hec.faults.failNext(4, { status: 503 });
    const range = await commit(50);
    await caughtUp(sink, range.last);
    const { dead } = await expectNoneLost(fx, sink, range, hecSeqs(hec));
    expect(dead.size).toBe(0);
    expect(hec.traffic.snapshot().responsesByStatus[503]).toBe(4);
    const text = await forwarder!.metrics.registry.metrics();
    expect(text).toMatch(
      new RegExp(`ledgerhub_forwarder_errors_total\\{sink="${sink}",kind="throttled"\\} [1-9]`),
    );
  });

  it('waits what Retry-After asks for after a 429', async () => {
    const sink = await startSink({ spec: { batch: { events: 500, waitMs: 0 } } });
    hec.faults.failNext(1, { status: 429, retryAfter: 1 });
    const started = Date.now();
    const range = await commit(10);
    await caughtUp(sink, range.last);
    const delivered = hec.requests().find((r) => r.status === 200)!;
    expect(delivered.receivedAt.getTime() - started).toBeGreaterThanOrEqual(950);
    await expectNoneLost(fx, sink, range, hecSeqs(hec));
  });

  it('dead-letters the event HEC names as invalid and resends only what follows it', async () => {
    const sink = await startSink({ spec: { batch: { events: 30, waitMs: 0 } } });
    hec.faults.partial({ rejectEvent: 4 });
    const range = await commit(30);
    await caughtUp(sink, range.last);
    const seqs = hecSeqs(hec);
    expect(new Set(seqs).size).toBe(seqs.length);
    // the plan hits the first request to arrive with five events or more: with concurrent requests
    // that need not be the batch starting at range.first, so the refused event is read from HEC
    const refused = hec.faults.refused().map((e) => Number(e.fields?.ledgerhub_seq));
    expect(refused).toHaveLength(1);
    const refusedSeq = refused[0]!;
    expect(refusedSeq).toBeGreaterThanOrEqual(range.first + 4);
    expect(refusedSeq).toBeLessThanOrEqual(range.last);
    const dead = await fx.deadLetters(sink);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ ledgerSeq: refusedSeq, error: { kind: 'data', code: 'hec_6' } });
    expect(seqs).not.toContain(refusedSeq);
    await expectNoneLost(fx, sink, range, seqs);

    await requestReplay(fx.ledger.db.pool, sink);
    await waitFor('replayed', async () => (await fx.deadLetters(sink)).length === 0, 20_000);
    expect(hecSeqs(hec)).toContain(refusedSeq);
    expect((await fx.health(sink)).replayedEvents).toBe(1);
  });

  it('shows wrong credentials in sink health within one attempt, pauses, and resumes once they work', async () => {
    const sink = await startSink({ spec: { batch: { events: 10, waitMs: 0 }, concurrency: 1 } });
    hec.faults.badCredentials();
    const range = await commit(40);
    await waitFor(
      'auth error in health',
      async () => (await fx.health(sink)).lastError?.kind === 'auth',
      20_000,
    );
    const h = await fx.health(sink);
    expect(h.lastError).toMatchObject({ kind: 'auth', code: 'hec_4', message: 'Invalid token' });
    await waitFor('sink paused', async () => (await fx.health(sink)).breaker !== 'closed', 10_000);
    const firstDead = await fx.deadLetters(sink);
    expect(firstDead.length).toBeGreaterThan(0);
    expect(firstDead.length).toBeLessThanOrEqual(10);
    expect(firstDead.every((d) => d.error.kind === 'auth')).toBe(true);

    await hec.faults.reset();
    await caughtUp(sink, range.last);
    expect((await fx.deadLetters(sink)).length).toBe(firstDead.length);
    await expectNoneLost(fx, sink, range, hecSeqs(hec));
    await requestReplay(fx.ledger.db.pool, sink);
    await waitFor('dead letters replayed', async () => (await fx.deadLetters(sink)).length === 0, 20_000);
    const { dead } = await expectNoneLost(fx, sink, range, hecSeqs(hec));
    expect(dead.size).toBe(0);
  });

  it('picks up a rotated token from the mounted Secret without a restart', async () => {
    const sink = await startSink({ spec: { batch: { events: 10, waitMs: 0 }, concurrency: 1 } });
    const old = hec.token;
    const next = '99999999-8888-4777-8666-555555555555';
    hec.faults.rotateToken(old, next);
    const range = await commit(20);
    await waitFor('auth error', async () => (await fx.health(sink)).lastError?.kind === 'auth', 20_000);
    fx.writeSecret(`${sink}-token`, 'token', next);
    await caughtUp(sink, range.last);
    await requestReplay(fx.ledger.db.pool, sink);
    await waitFor('replayed', async () => (await fx.deadLetters(sink)).length === 0, 20_000);
    const { dead } = await expectNoneLost(fx, sink, range, hecSeqs(hec));
    expect(dead.size).toBe(0);
  });

  it('delivers at least once when answers are slower than the request timeout', async () => {
    const sink = await startSink({ spec: { timeoutMs: 300, batch: { events: 25, waitMs: 0 } } });
    hec.faults.slow(600);
    const range = await commit(25);
    await waitFor('a timed-out request was stored', () => hec.acceptedCount >= 25, 10_000);
    hec.faults.slow(0);
    await caughtUp(sink, range.last);
    const seqs = hecSeqs(hec);
    expect(seqs.length).toBeGreaterThan(25);
    const { dead } = await expectNoneLost(fx, sink, range, seqs);
    expect(dead.size).toBe(0);
  });

  it('completes a batch only once the indexer acknowledged it', async () => {
    fx.writeSecret('hec-ack-token', 'token', ACK_TOKEN);
    hec.acks.setIndexing({ afterPolls: 2 });
    const sink = await startSink({
      splunkHec: {
        token: { name: 'hec-ack-token', key: 'token' },
        indexerAck: { enabled: true, pollIntervalMs: 100, maxPolls: 10 },
      },
    });
    const range = await commit(30);
    await caughtUp(sink, range.last);
    const { rows } = await fx.ledger.db.pool.query<{ receipt: string }>(
      'SELECT receipt FROM forwarder_batches WHERE sink = $1 AND state = $2',
      [sink, 'delivered'],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => /hec ackId=\d+/.test(r.receipt))).toBe(true);
    expect(hec.requests().some((r) => r.path === '/services/collector/ack')).toBe(true);
    await expectNoneLost(fx, sink, range, hecSeqs(hec));
  });

  it('sends a batch again when its ack never comes, and completes it once indexed', async () => {
    fx.writeSecret('hec-ack-token', 'token', ACK_TOKEN);
    hec.acks.setIndexing('never');
    const sink = await startSink({
      splunkHec: {
        token: { name: 'hec-ack-token', key: 'token' },
        indexerAck: { enabled: true, pollIntervalMs: 100, maxPolls: 3 },
      },
      spec: { batch: { events: 100, waitMs: 0 } },
    });
    const range = await commit(10);
    await waitFor('sent again after the ack timed out', () => hec.acceptedCount >= 20, 20_000);
    expect((await fx.health(sink)).deliveredThrough).toBeLessThan(range.last);
    hec.acks.setIndexing('immediate');
    await caughtUp(sink, range.last);
    await expectNoneLost(fx, sink, range, hecSeqs(hec));
  });

  it('compresses bodies with gzip when asked', async () => {
    const sink = await startSink({ splunkHec: { gzip: true, index: 'audit', sourcetype: 'ledgerhub:test' } });
    const range = await commit(20);
    await caughtUp(sink, range.last);
    expect(hec.requests().every((r) => r.contentEncoding === 'gzip')).toBe(true);
    expect(hec.events().every((e) => e.index === 'audit' && e.sourcetype === 'ledgerhub:test')).toBe(true);
    await expectNoneLost(fx, sink, range, hecSeqs(hec));
  });

  it('dead-letters events HEC refuses for an index the token may not use, and says so in health', async () => {
    const sink = await startSink({
      splunkHec: { index: 'forbidden' },
      spec: { batch: { events: 5, waitMs: 0 }, concurrency: 1 },
    });
    const range = await commit(5);
    await waitFor('config error', async () => (await fx.health(sink)).lastError?.code === 'hec_7', 20_000);
    const dead = await fx.deadLetters(sink);
    expect(dead.map((d) => d.ledgerSeq)).toEqual([
      range.first,
      range.first + 1,
      range.first + 2,
      range.first + 3,
      range.first + 4,
    ]);
    expect(dead[0]!.error).toMatchObject({ kind: 'config', message: 'Incorrect index' });
    await caughtUp(sink, range.last);
  });

  it('reports a failed health check at start', async () => {
    await hec.faults.down();
    const sink = await startSink();
    await waitFor('check result in health', async () => (await fx.health(sink)).lastError !== null, 10_000);
    expect((await fx.health(sink)).lastError).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
  });
});
