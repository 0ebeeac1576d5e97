// bench:forward's receiver process: the three strict local receivers on their own core, driven over
// stdin/stdout (one JSON line per command): `counts`, `clear`, `arrivals`, `stop`. The first line it
// prints is where the receivers listen and their credentials.
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { startElasticsearch, startSplunkHec, startWebhookReceiver } from '../test/support/receivers/index.ts';

/** The index bench:forward's Elasticsearch sink writes to (its first argument). */
const BENCH_INDEX = process.argv[2] ?? 'ledgerhub-bench';
/** Enough records kept for the lag phase (the throughput phase only needs counters). */
const KEEP = 60_000;

const token = randomUUID();
const esKey = `bench:${randomBytes(9).toString('base64url')}`;
const hec = await startSplunkHec({ tokens: { [token]: {} }, maxStoredEvents: KEEP });
const es = await startElasticsearch({
  apiKeys: [esKey],
  maxStoredDocuments: KEEP,
  maxStoredRequests: 20_000,
});
const hooks = await startWebhookReceiver({ maxStoredDeliveries: 20_000, dedupWindow: 20_000 });

const webhookEvents = () =>
  hooks.deliveries().reduce((n, d) => n + (d.body as { events: unknown[] }).events.length, 0);

/** Ledger seq → when it first arrived (ms), per sink, for what the receivers still hold. */
function arrivals(): Record<string, [number, number][]> {
  const first = (pairs: [number, number][]) => {
    const m = new Map<number, number>();
    for (const [seq, at] of pairs) if (!m.has(seq) || m.get(seq)! > at) m.set(seq, at);
    return [...m];
  };
  const idToSeq = new Map(
    es
      .documents(BENCH_INDEX)
      .map((d) => [d.id, (d.source.ledgerhub as { ledger_seq: number }).ledger_seq] as const),
  );
  return {
    splunkHec: first(
      hec.events().map((e) => [Number(e.fields?.ledgerhub_seq), e.request.receivedAt.getTime()]),
    ),
    elasticsearch: first(
      es
        .bulkRequests()
        .flatMap((r) =>
          r.items
            .filter((i) => i.status < 300 && i.id !== null && idToSeq.has(i.id))
            .map((i) => [idToSeq.get(i.id!)!, r.receivedAt.getTime()] as [number, number]),
        ),
    ),
    webhook: first(
      hooks
        .deliveries()
        .flatMap((d) =>
          (d.body as { events: { ledger_seq: number }[] }).events.map(
            (e) => [e.ledger_seq, d.receivedAt.getTime()] as [number, number],
          ),
        ),
    ),
  };
}

const reply = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
reply({
  splunkHec: { url: hec.url, token },
  elasticsearch: { url: es.url, apiKey: esKey },
  webhook: { url: hooks.url, secret: hooks.secret },
});

for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === 'counts') {
    reply({
      splunkHec: hec.acceptedCount,
      elasticsearch: es.count(BENCH_INDEX) + es.droppedDocuments,
      webhook: webhookEvents(),
    });
  } else if (command === 'clear') {
    hec.clear();
    es.clear();
    hooks.clear();
    reply({ ok: true });
  } else if (command === 'arrivals') {
    reply(arrivals());
  } else if (command === 'stop') {
    await Promise.all([hec.stop(), es.stop(), hooks.stop()]);
    reply({ ok: true });
    process.exit(0);
  } else {
    reply({ error: `unknown command ${command}` });
  }
}
