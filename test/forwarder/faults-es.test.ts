// Elasticsearch under the strict receiver's fault switches: per-item 429s retried alone, per-item 4xx
// dead-lettered one by one, 429 storms, outages, bad credentials, slow answers (409 on create counts
// as delivered) and data streams. Each test counts: every event delivered or dead-lettered, none lost.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { requestReplay } from '../../ledger/sinks/health-store.ts';
import { type ElasticsearchReceiver, startElasticsearch } from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  esSinkEntry,
  expectNoneLost,
  type ForwarderFixture,
} from './support/forwarder-fixture.ts';

const KEY = 'ledgerhub:es-faults';
let fx: ForwarderFixture;
let es: ElasticsearchReceiver;
let forwarder: ForwarderHandle | undefined;
let seed = 300;
let sinkNo = 0;

beforeAll(async () => {
  fx = await createForwarderFixture('es-faults');
  es = await startElasticsearch({ apiKeys: [KEY], dataStreams: ['logs-*'] });
});
afterAll(async () => {
  await fx.close();
  await es.stop();
});
beforeEach(async () => {
  await es.faults.reset();
});
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
});

/** A fresh sink writing to its own index, starting at the ledger head. */
async function startSink(extra: Parameters<typeof esSinkEntry>[4] = {}) {
  const name = `es-${++sinkNo}`;
  const entry = esSinkEntry(fx, es, KEY, name, {
    ...extra,
    elasticsearch: { index: `audit-${name}`, ...extra.elasticsearch },
    spec: { backfill: false, batch: { events: 20, waitMs: 20 }, ...extra.spec },
  });
  forwarder = await fx.start([entry]);
  return { sink: name, index: `audit-${name}` };
}

async function commit(n: number) {
  return fx.commit(realisticEvents(n, { seed: seed++ }), 25);
}

async function caughtUp(sink: string, through: number) {
  await waitFor(
    `${sink} delivered through ${through}`,
    async () => (await fx.health(sink)).deliveredThrough >= through,
    30_000,
  );
}

/** Ledger seqs of the documents in an index (each carries ledgerhub.ledger_seq). */
function docSeqs(index: string): number[] {
  return es.documents(index).map((d) => (d.source.ledgerhub as { ledger_seq: number }).ledger_seq);
}

describe('Elasticsearch faults', () => {
  it('retries a 429 item alone and dead-letters a 400 item with its error, one by one', async () => {
    const { sink, index } = await startSink({ spec: { batch: { events: 10, waitMs: 0 } } });
    es.faults.partial({ items: { 1: 429, 3: 400 } });
    const range = await commit(10);
    await caughtUp(sink, range.last);
    const bulks = es.bulkRequests();
    expect(bulks[0]!.items).toHaveLength(10);
    expect(bulks[1]!.items).toHaveLength(1);
    expect(bulks[1]!.items[0]!.status).toBe(201);
    const dead = await fx.deadLetters(sink);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ ledgerSeq: range.first + 3, error: { kind: 'data' } });
    expect(dead[0]!.error.code).toMatch(/^es_/);
    const { delivered } = await expectNoneLost(fx, sink, range, docSeqs(index));
    expect(delivered.size).toBe(9);
  });

  it('backs off through a 429 storm, honouring Retry-After, and delivers everything', async () => {
    const { sink, index } = await startSink();
    es.faults.failNext(3, { status: 429, retryAfter: 0 });
    const range = await commit(40);
    await caughtUp(sink, range.last);
    const { dead } = await expectNoneLost(fx, sink, range, docSeqs(index));
    expect(dead.size).toBe(0);
    expect(es.traffic.snapshot().responsesByStatus[429]).toBe(3);
  });

  it('rides out an outage with the connection reset, then delivers', async () => {
    const { sink, index } = await startSink();
    await es.faults.down('reset');
    const range = await commit(30);
    await waitFor('paused', async () => (await fx.health(sink)).breaker === 'open', 20_000);
    await es.faults.up();
    await caughtUp(sink, range.last);
    const { dead } = await expectNoneLost(fx, sink, range, docSeqs(index));
    expect(dead.size).toBe(0);
  });

  it('shows wrong credentials in sink health within one attempt', async () => {
    const { sink } = await startSink({ spec: { batch: { events: 5, waitMs: 0 }, concurrency: 1 } });
    es.faults.badCredentials();
    const range = await commit(15);
    await waitFor('auth error', async () => (await fx.health(sink)).lastError?.kind === 'auth', 20_000);
    expect((await fx.health(sink)).lastError).toMatchObject({ code: 'es_security_exception' });
    await es.faults.reset();
    await caughtUp(sink, range.last);
    await expectNoneLost(fx, sink, range, docSeqs(`audit-${sink}`));
  });

  it('counts a 409 on create as delivered, so slow answers and retries never duplicate a document', async () => {
    const { sink, index } = await startSink({ spec: { timeoutMs: 300, batch: { events: 20, waitMs: 0 } } });
    es.faults.slow(600);
    const range = await commit(20);
    await waitFor('stored while the client timed out', () => es.count(index) >= 20, 10_000);
    es.faults.slow(0);
    await caughtUp(sink, range.last);
    expect(es.bulkRequests().some((b) => b.items.some((i) => i.status === 409))).toBe(true);
    expect(es.count(index)).toBe(20);
    const { dead } = await expectNoneLost(fx, sink, range, docSeqs(index));
    expect(dead.size).toBe(0);
  });

  it('writes to a data stream with @timestamp on every document', async () => {
    const stream = `logs-ledgerhub-${seed}`;
    const { sink } = await startSink({ elasticsearch: { index: undefined, dataStream: stream } });
    const range = await commit(25);
    await caughtUp(sink, range.last);
    const docs = es.documents(stream);
    expect(docs).toHaveLength(25);
    expect(docs.every((d) => d.dataStream === stream && typeof d.source['@timestamp'] === 'string')).toBe(
      true,
    );
  });

  it('dead-letters a document the index mapping refuses, and delivers the rest', async () => {
    const { sink, index } = await startSink({
      spec: { format: 'caracal', batch: { events: 50, waitMs: 0 } },
    });
    const events = realisticEvents(6, { seed: seed++ });
    events[2] = { ...events[2]!, metadata_json: { ...events[2]!.metadata_json, agent_depth: 'deep' } };
    events[0] = { ...events[0]!, metadata_json: { ...events[0]!.metadata_json, agent_depth: 2 } };
    const range = await fx.commit(events, 6);
    await caughtUp(sink, range.last);
    const dead = await fx.deadLetters(sink);
    expect(dead.map((d) => d.ledgerSeq)).toEqual([range.first + 2]);
    expect(dead[0]!.error.code).toBe('es_document_parsing_exception');
    await expectNoneLost(fx, sink, range, docSeqs(index));
  });

  it('picks up a rotated API key from the mounted Secret without a restart', async () => {
    const { sink, index } = await startSink({ spec: { batch: { events: 5, waitMs: 0 }, concurrency: 1 } });
    const next = 'ledgerhub:rotated-key';
    es.faults.rotateApiKey(KEY, next);
    const range = await commit(15);
    await waitFor('auth error', async () => (await fx.health(sink)).lastError?.kind === 'auth', 20_000);
    fx.writeSecret(`${sink}-key`, 'api-key', next);
    await caughtUp(sink, range.last);
    await requestReplay(fx.ledger.db.pool, sink);
    await waitFor('replayed', async () => (await fx.deadLetters(sink)).length === 0, 20_000);
    const { dead, delivered } = await expectNoneLost(fx, sink, range, docSeqs(index));
    expect(dead.size).toBe(0);
    expect(delivered.size).toBe(15);
  });
});

describe('Elasticsearch with basic authentication', () => {
  it('delivers with a user and a password from a Secret', async () => {
    const basic = await startElasticsearch({ basic: [{ user: 'shipper', password: 'p4ss' }] });
    try {
      const password = fx.writeSecret('es-basic', 'password', 'p4ss');
      const name = `es-${++sinkNo}`;
      forwarder = await fx.start([
        {
          name,
          spec: {
            type: 'elasticsearch',
            elasticsearch: { endpoint: basic.url, index: 'audit-basic', username: 'shipper', password },
            backfill: false,
            batch: { waitMs: 0 },
          },
        },
      ]);
      const range = await commit(10);
      await caughtUp(name, range.last);
      expect(basic.count('audit-basic')).toBe(10);
    } finally {
      await forwarder?.stop();
      forwarder = undefined;
      await basic.stop();
    }
  });
});
