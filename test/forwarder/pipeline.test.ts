// End to end: committed ledger events reach Splunk HEC, Elasticsearch and a webhook at once, each sink
// with its own route, format and cursor; batches carry their range and digest; a restart enqueues nothing
// twice; the forwarder runs with the ledgerhub_forwarder role's privileges only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchSha256 } from '../../forwarder/batch-digest.ts';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import {
  type ElasticsearchReceiver,
  type SplunkHecReceiver,
  startElasticsearch,
  startSplunkHec,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  esSinkEntry,
  type ForwarderFixture,
  hecSeqs,
  hecSinkEntry,
  webhookSinkEntry,
} from './support/forwarder-fixture.ts';

const ES_KEY = 'ledgerhub:pipeline-key';
let fx: ForwarderFixture;
let hec: SplunkHecReceiver;
let es: ElasticsearchReceiver;
let hooks: WebhookReceiver;
let forwarder: ForwarderHandle;

const events = realisticEvents(1200, { seed: 7 });
const denials = events.filter((e) => e.decision === 'deny' || e.decision === 'rejected');

function sinks() {
  return [
    hecSinkEntry(fx, hec, 'splunk', { spec: { batch: { events: 100 } } }),
    esSinkEntry(fx, es, ES_KEY, 'elastic', { spec: { batch: { events: 250 } } }),
    webhookSinkEntry(fx, hooks, 'webhook', {
      spec: { format: 'ocsf' },
      route: { decisions: ['deny', 'rejected'], redactKeys: ['subject_fingerprint', 'requested_scopes'] },
    }),
  ];
}

beforeAll(async () => {
  fx = await createForwarderFixture('pipeline');
  hec = await startSplunkHec();
  es = await startElasticsearch({ apiKeys: [ES_KEY] });
  hooks = await startWebhookReceiver();
  await fx.commit(events, 150);
  forwarder = await fx.start(sinks(), { LEDGERHUB_DB_ROLE: 'ledgerhub_forwarder' });
});

afterAll(async () => {
  await fx.close();
  await Promise.all([hec.stop(), es.stop(), hooks.stop()]);
});

describe('forwarding the committed ledger to three sinks', () => {
  it('delivers every event to Splunk HEC once, with its ledger seq, in ledger order within each batch', async () => {
    await hec.waitForEvents(events.length, 30_000);
    const seqs = hecSeqs(hec);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    const ids = new Map(
      hec.events().map((e) => [Number(e.fields!.ledgerhub_seq), (e.event as { id: string }).id]),
    );
    expect(events.map((_, i) => ids.get(i + 1))).toEqual(events.map((e) => e.id));
    for (const r of hec.requests()) {
      const inRequest = hec
        .events()
        .filter((e) => e.request === r)
        .map((e) => Number(e.fields!.ledgerhub_seq));
      expect(inRequest).toEqual([...inRequest].sort((a, b) => a - b));
    }
  });

  it('creates one Elasticsearch document per event, with _id = event id and ECS fields', async () => {
    await es.waitForDocuments('ledgerhub-audit', events.length, 30_000);
    const doc = es.document('ledgerhub-audit', events[0]!.id);
    expect(doc?.source).toMatchObject({
      '@timestamp': expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      event: { id: events[0]!.id, action: events[0]!.event_type, kind: 'event' },
      labels: { zone_id: events[0]!.zone_id },
      caracal: { id: events[0]!.id, zone_id: events[0]!.zone_id },
    });
    expect(es.count('ledgerhub-audit')).toBe(events.length);
  });

  it('sends the webhook only the events its route selects, redacted, as signed OCSF batches', async () => {
    await waitFor(
      'webhook batches',
      async () => (await fx.health('webhook')).deliveredEvents === denials.length,
      30_000,
    );
    const received = hooks
      .deliveries()
      .flatMap((d) => (d.body as { events: Record<string, unknown>[] }).events);
    expect(received.map((e) => e.event_id)).toEqual(denials.map((e) => e.id));
    expect(
      received.every((e) => e.class_uid === 6003 && (e.decision === 'deny' || e.decision === 'rejected')),
    ).toBe(true);
    const metadata = received.map((e) => JSON.parse(e.metadata_json as string) as Record<string, unknown>);
    expect(metadata.some((m) => 'requested_scopes' in m)).toBe(true);
    expect(
      metadata.every((m) => m.requested_scopes === undefined || m.requested_scopes === '[redacted]'),
    ).toBe(true);
    expect(hooks.deliveries().every((d) => d.verified)).toBe(true);
  });

  it('lets every receiver reconcile a batch from its range and digest', async () => {
    const byBatch = new Map<string, { id: string; seq: number; sha: string }[]>();
    for (const e of hec.events()) {
      const f = e.fields!;
      const key = `${f.ledgerhub_batch_first_seq}-${f.ledgerhub_batch_last_seq}|${f.ledgerhub_batch_sha256}|${f.ledgerhub_batch_count}`;
      const ev = e.event as { id: string; content_sha256: string };
      byBatch.set(key, [
        ...(byBatch.get(key) ?? []),
        { id: ev.id, seq: Number(f.ledgerhub_seq), sha: ev.content_sha256 },
      ]);
    }
    expect(byBatch.size).toBeGreaterThan(1);
    for (const [key, got] of byBatch) {
      const [, sha, count] = key.split('|');
      expect(got.length).toBe(Number(count));
      expect(batchSha256(got.map((g) => ({ ledger_seq: g.seq, id: g.id, content_sha256: g.sha })))).toBe(sha);
    }
    for (const d of hooks.deliveries()) {
      const body = d.body as {
        first_seq: number;
        last_seq: number;
        sha256: string;
        events: Record<string, unknown>[];
      };
      expect(d.headers['ledgerhub-batch-sha256']).toBe(body.sha256);
      expect(d.headers['ledgerhub-batch-first-seq']).toBe(String(body.first_seq));
      const recomputed = batchSha256(
        body.events.map((e) => ({
          ledger_seq: e.ledger_seq as number,
          id: e.event_id as string,
          content_sha256: e.content_sha256 as string,
        })),
      );
      expect(recomputed).toBe(body.sha256);
    }
    const doc = es.document('ledgerhub-audit', events[10]!.id)!.source as {
      ledgerhub: { batch: { first_seq: number; last_seq: number } };
    };
    expect(doc.ledgerhub.batch.first_seq).toBeLessThanOrEqual(11);
    expect(doc.ledgerhub.batch.last_seq).toBeGreaterThanOrEqual(11);
  });

  it('moves every cursor to the ledger head and reports health with zero lag', async () => {
    const head = await fx.head();
    for (const sink of ['splunk', 'elastic', 'webhook']) {
      await waitFor(
        `${sink} caught up`,
        async () => (await fx.health(sink)).deliveredThrough === head,
        30_000,
      );
      const h = await fx.health(sink);
      expect(h).toMatchObject({
        lagEvents: 0,
        lagSeconds: 0,
        deadLetters: 0,
        breaker: 'closed',
        active: true,
      });
      expect(h.lastSuccessAt).not.toBeNull();
    }
    expect((await fx.health('splunk')).deliveredEvents).toBe(events.length);
  });

  it('forwards events committed while it runs, woken by the commit notification', async () => {
    const more = realisticEvents(60, { seed: 8 });
    await fx.commit(more, 60);
    await hec.waitForEvents(events.length + more.length, 10_000);
    expect(
      hecSeqs(hec)
        .slice(-more.length)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: more.length }, (_, i) => events.length + i + 1));
  });

  it('enqueues nothing twice after a restart: every event is still delivered exactly once', async () => {
    await forwarder.stop();
    const before = { hec: hec.acceptedCount, es: es.bulkRequests().length, hooks: hooks.attempts().length };
    forwarder = await fx.start(sinks(), { LEDGERHUB_DB_ROLE: 'ledgerhub_forwarder' });
    const more = realisticEvents(30, { seed: 9 });
    await fx.commit(more, 30);
    await hec.waitForEvents(before.hec + more.length, 10_000);
    const head = await fx.head();
    await waitFor('all caught up', async () => {
      const hs = await Promise.all(['splunk', 'elastic', 'webhook'].map((s) => fx.health(s)));
      return hs.every((h) => h.deliveredThrough === head);
    });
    expect(hec.acceptedCount).toBe(before.hec + more.length);
    const seqs = hecSeqs(hec);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(hooks.duplicates()).toEqual([]);
  });

  it('exposes queue depth, lag and delivery counts as metrics', async () => {
    await forwarder.refreshStats();
    const text = await forwarder.metrics.registry.metrics();
    expect(text).toMatch(/ledgerhub_forwarder_lag_events\{sink="splunk"\} 0/);
    expect(text).toMatch(/ledgerhub_forwarder_queue_jobs\{sink="elastic",state="waiting"\} 0/);
    expect(text).toMatch(/ledgerhub_forwarder_breaker_state\{sink="webhook"\} 0/);
    expect(text).toMatch(/ledgerhub_forwarder_delivered_events_total\{sink="splunk"\} \d+/);
    expect(text).not.toMatch(new RegExp(hec.token));
  });
});
