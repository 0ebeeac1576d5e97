// bench:forward — N committed events forwarded by one forwarder process to the three local receivers
// at once (receivers in a process of their own). Baseline in the same run: a plain undici POST loop per
// receiver sending the same payloads (built beforehand by the same payload builders), run before and
// after ours, the faster pass counting. Then events committed at 5,000/s, measuring commit-to-delivered
// lag. Redis used_memory is sampled throughout.
//
// Last line: bench:forward events=<N> sinks=3 eps=<slowest sink, ours> raw_eps=<baseline>
//            ratio=<ours/raw> p99_lag_ms=<commit to delivered at 5,000 events/s> redis_mb=<peak>
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { batchMeta } from '../forwarder/batch-digest.ts';
import { formatterFor } from '../forwarder/formats/event-format.ts';
import type { LedgerEvent } from '../forwarder/ledger-event.ts';
import { fetchEvents } from '../forwarder/ledger-reader.ts';
import { compileRoute, redactEvent } from '../forwarder/route.ts';
import { bulkEntry, bulkPath, esDocument } from '../forwarder/sinks/elasticsearch-payload.ts';
import { HEC_EVENT_PATH, hecEventText } from '../forwarder/sinks/splunk-hec-payload.ts';
import {
  webhookBody,
  webhookId,
  webhookSignature,
  webhookSigningKey,
} from '../forwarder/sinks/webhook-payload.ts';
import { appendBatch } from '../ledger/append-batch.ts';
import { createPool } from '../ledger/db.ts';
import { type PreparedEvent, prepareEvent } from '../ledger/prepare-event.ts';
import { createRedis } from '../ledger/redis.ts';
import { realisticEvents } from '../ledger/scenarios.ts';
import { SINK_DEFAULTS } from '../ledger/sinks/spec.ts';
import { benchArgs, benchStack, progress, result } from './harness.ts';

const args = benchArgs({ events: '200000', 'lag-rate': '5000', 'lag-seconds': '10' });
const N = Number(args.events);
const LAG_RATE = Number(args['lag-rate']);
const LAG_SECONDS = Number(args['lag-seconds']);
/** Events per commit while pacing the lag phase (100 commits per second at 5,000 events/s). */
const LAG_COMMIT_EVENTS = Math.max(1, Math.round(LAG_RATE / 100));
const SINKS = ['splunkHec', 'elasticsearch', 'webhook'] as const;
const BENCH_INDEX = 'ledgerhub-bench';
type SinkName = (typeof SINKS)[number];

interface ReceiverInfo {
  splunkHec: { url: string; token: string };
  elasticsearch: { url: string; apiKey: string };
  webhook: { url: string; secret: string };
}

/** The receivers' process, driven one JSON line per command. */
class Receivers {
  readonly child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  constructor() {
    this.child = spawn(process.execPath, ['bench/forward-receivers.ts', BENCH_INDEX], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.#lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('the receiver process exited');
    return JSON.parse(value) as T;
  }

  async ask<T>(command: string): Promise<T> {
    this.child.stdin!.write(`${command}\n`);
    return this.next<T>();
  }
}

async function main() {
  const stack = await benchStack();
  const receivers = new Receivers();
  const info = await receivers.next<ReceiverInfo>();
  const pool = createPool({ databaseUrl: stack.databaseUrl, dbMaxConns: 4 });
  const redis = createRedis(stack.redisUrl, 'bench-forward');
  let peakRedis = 0;
  const sampler = setInterval(() => {
    redis
      .info('memory')
      .then((text) => {
        peakRedis = Math.max(peakRedis, Number(/used_memory:(\d+)/.exec(text)?.[1] ?? 0));
      })
      .catch(() => {});
  }, 100);

  // --- the ledger: N realistic events committed the way the worker commits them (1,000 per transaction)
  progress(`committing ${N} realistic events`);
  const now = Date.now();
  const generated = realisticEvents(N, { seed: 42, startMs: now - 3600_000, endMs: now });
  await commitAll(pool, generated.map(prepare), 1000);

  // --- baseline, first pass: the same payloads, one plain undici POST at a time per receiver, all three
  // at once. It runs again after ours and the faster pass counts, so a noisy machine can only make the
  // ratio look worse, never better.
  progress('baseline: building the same payloads');
  const payloads = await buildPayloads(pool, info, N);
  const rawBefore = await baseline(receivers, payloads);

  // --- ours: one forwarder process, three sinks
  await receivers.ask('clear');
  const dir = mkdtempSync(join(tmpdir(), 'ledgerhub-bench-forward-'));
  const sinksFile = writeSinks(dir, info);
  progress('forwarding with one forwarder process');
  const nodeArgs = (process.env.BENCH_FORWARDER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const forwarder = spawn(process.execPath, [...nodeArgs, 'cli/ledgerhub.ts', 'forwarder'], {
    env: {
      ...process.env,
      REDIS_URL: stack.redisUrl,
      DATABASE_URL: stack.databaseUrl,
      LEDGERHUB_DB_ROLE: 'ledgerhub_forwarder',
      LEDGERHUB_SINKS_FILE: sinksFile,
      LEDGERHUB_SECRETS_DIR: join(dir, 'secrets'),
      HOSTNAME: 'bench-forwarder',
      PORT: '0',
      LOG_LEVEL: process.env.BENCH_FORWARDER_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ours = await timeUntilDelivered(receivers, N);
  const eps = Math.min(...SINKS.map((s) => N / ours[s]));
  progress(`ours: ${SINKS.map((s) => `${s} ${(N / ours[s]).toFixed(0)}/s`).join(', ')}`);

  // --- lag: events committed at LAG_RATE per second while the forwarder runs
  await receivers.ask('clear');
  const lagEvents = LAG_RATE * LAG_SECONDS;
  progress(`committing ${lagEvents} more at ${LAG_RATE}/s for the lag measurement`);
  const more = realisticEvents(lagEvents, { seed: 43 }).map(prepare);
  await commitPaced(pool, more, LAG_COMMIT_EVENTS, (LAG_COMMIT_EVENTS / LAG_RATE) * 1000);
  await waitForCounts(receivers, lagEvents, 120_000);
  const p99Lag = await commitToDeliveredP99(pool, receivers, N);
  progress(`p99 commit-to-delivered lag at ${LAG_RATE}/s: ${p99Lag} ms`);
  forwarder.kill('SIGTERM');
  await new Promise((r) => forwarder.once('exit', r));

  // --- baseline, second pass
  const rawAfter = await baseline(receivers, payloads);
  const rawEps = Math.max(rawBefore, rawAfter);

  clearInterval(sampler);
  await receivers.ask('stop');
  redis.disconnect();
  await pool.end();
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
  result('bench:forward', {
    events: N,
    sinks: 3,
    eps: Math.round(eps),
    raw_eps: Math.round(rawEps),
    ratio: Number((eps / rawEps).toFixed(2)),
    p99_lag_ms: p99Lag,
    redis_mb: Math.round(peakRedis / 1024 / 1024),
  });
}

function prepare(e: ReturnType<typeof realisticEvents>[number]): PreparedEvent {
  const p = prepareEvent(JSON.stringify(e), null);
  if (!p.ok) throw new Error(p.error);
  return p.event;
}

async function commitAll(pool: import('pg').Pool, events: PreparedEvent[], size: number): Promise<void> {
  const client = await pool.connect();
  try {
    for (let i = 0; i < events.length; i += size) {
      await appendBatch(client, events.slice(i, i + size), { hmacKey: null, consumer: 'bench' });
    }
  } finally {
    client.release();
  }
}

/** Commits `size` events every `everyMs`, on schedule (not drifting), like a steady producer. */
async function commitPaced(pool: import('pg').Pool, events: PreparedEvent[], size: number, everyMs: number) {
  const client = await pool.connect();
  const started = performance.now();
  try {
    for (let i = 0, tick = 0; i < events.length; i += size, tick++) {
      const due = started + tick * everyMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await appendBatch(client, events.slice(i, i + size), { hmacKey: null, consumer: 'bench-paced' });
    }
  } finally {
    client.release();
  }
}

function writeSinks(dir: string, info: ReceiverInfo): string {
  const secret = (name: string, value: string) => {
    mkdirSync(join(dir, 'secrets', name), { recursive: true });
    writeFileSync(join(dir, 'secrets', name, 'value'), value);
    return { name, key: 'value' };
  };
  const sinks = [
    {
      name: 'bench-splunk',
      spec: {
        type: 'splunkHec',
        splunkHec: { endpoint: info.splunkHec.url, token: secret('hec', info.splunkHec.token) },
      },
    },
    {
      name: 'bench-elastic',
      spec: {
        type: 'elasticsearch',
        elasticsearch: {
          endpoint: info.elasticsearch.url,
          index: BENCH_INDEX,
          apiKey: secret('es', info.elasticsearch.apiKey),
        },
      },
    },
    {
      name: 'bench-webhook',
      spec: {
        type: 'webhook',
        webhook: {
          endpoint: `${info.webhook.url}/bench`,
          signingSecret: secret('hook', info.webhook.secret),
        },
      },
    },
  ];
  const path = join(dir, 'sinks.json');
  writeFileSync(path, JSON.stringify({ sinks }));
  return path;
}

/** Seconds each sink took, from the first event any receiver got to its own last one. */
async function timeUntilDelivered(receivers: Receivers, n: number): Promise<Record<SinkName, number>> {
  let start: number | undefined;
  const done: Partial<Record<SinkName, number>> = {};
  let lastReport = performance.now();
  while (Object.keys(done).length < SINKS.length) {
    const counts = await receivers.ask<Record<SinkName, number>>('counts');
    const t = performance.now();
    if (start === undefined && SINKS.some((s) => counts[s] > 0)) start = t;
    for (const s of SINKS) if (done[s] === undefined && counts[s] >= n) done[s] = (t - (start ?? t)) / 1000;
    if (t - lastReport > 5000) {
      lastReport = t;
      progress(`  ${SINKS.map((s) => `${s} ${counts[s]}`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return done as Record<SinkName, number>;
}

async function waitForCounts(receivers: Receivers, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await receivers.ask<Record<SinkName, number>>('counts');
    if (SINKS.every((s) => counts[s] >= n)) return;
    if (Date.now() > deadline) throw new Error(`lag phase: receivers got ${JSON.stringify(counts)} of ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The slowest sink's p99 of (arrival at the receiver − commit), over the events after `after`. */
async function commitToDeliveredP99(
  pool: import('pg').Pool,
  receivers: Receivers,
  after: number,
): Promise<number> {
  const { rows } = await pool.query<{ first_seq: number; last_seq: number; ms: number }>(
    `SELECT first_seq, last_seq, (extract(epoch FROM committed_at) * 1000)::float8 AS ms
     FROM audit_commits WHERE last_seq > $1`,
    [after],
  );
  const committed = new Map<number, number>();
  for (const r of rows) for (let s = r.first_seq; s <= r.last_seq; s++) committed.set(s, r.ms);
  const arrivals = await receivers.ask<Record<SinkName, [number, number][]>>('arrivals');
  const p99s = SINKS.map((s) => {
    const lags = arrivals[s]
      .filter(([seq]) => committed.has(seq))
      .map(([seq, at]) => at - committed.get(seq)!);
    lags.sort((a, b) => a - b);
    return lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))] ?? 0;
  });
  progress(`  p99 by sink: ${SINKS.map((s, i) => `${s} ${Math.round(p99s[i]!)} ms`).join(', ')}`);
  return Math.round(Math.max(...p99s));
}

interface Payload {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The requests the forwarder sends for the first N events, built by the same pure builders. */
async function buildPayloads(
  pool: import('pg').Pool,
  info: ReceiverInfo,
  n: number,
): Promise<Record<SinkName, Payload[]>> {
  const route = compileRoute({ eventTypes: [], decisions: [], zones: [], redactKeys: [] });
  const size = SINK_DEFAULTS.batch.events;
  const out: Record<SinkName, Payload[]> = { splunkHec: [], elasticsearch: [], webhook: [] };
  const hookKey = webhookSigningKey(info.webhook.secret);
  for (let first = 1; first <= n; first += size) {
    const last = Math.min(n, first + size - 1);
    const events: LedgerEvent[] = (
      await fetchEvents(pool, { first, last, minUs: null, maxUs: null }, route)
    ).map((e) => redactEvent(e, route));
    const hecMeta = batchMeta('bench-splunk', `bench-splunk-${first}-${last}`, { first, last }, events);
    const caracal = formatterFor('caracal');
    out.splunkHec.push({
      url: `${info.splunkHec.url}${HEC_EVENT_PATH}`,
      headers: { authorization: `Splunk ${info.splunkHec.token}`, 'content-type': 'application/json' },
      body: events
        .map((e) =>
          hecEventText(e, caracal(e), hecMeta, {
            host: 'ledgerhub',
            source: 'ledgerhub',
            sourcetype: 'caracal:audit',
          }),
        )
        .join('\n'),
    });
    const esMeta = { ...hecMeta, sink: 'bench-elastic' };
    const ecs = formatterFor('ecs');
    out.elasticsearch.push({
      url: `${info.elasticsearch.url}${bulkPath('', undefined)}`,
      headers: {
        authorization: `ApiKey ${Buffer.from(info.elasticsearch.apiKey).toString('base64')}`,
        'content-type': 'application/x-ndjson',
      },
      body: events.map((e) => bulkEntry(BENCH_INDEX, e.id, esDocument(e, ecs(e), esMeta, 'ecs'))).join(''),
    });
    const hookMeta = { ...hecMeta, sink: 'bench-webhook' };
    const body = webhookBody(
      hookMeta,
      events.map((e) => JSON.stringify(caracal(e))),
    );
    const id = webhookId(
      'bench-webhook',
      events.map((e) => e.ledger_seq),
    );
    const ts = Math.floor(Date.now() / 1000);
    out.webhook.push({
      url: `${info.webhook.url}/bench`,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': webhookSignature(hookKey, id, ts, body),
      },
      body,
    });
  }
  return out;
}

/** The slowest receiver's events per second with the plain POST loop (receivers cleared first). */
async function baseline(receivers: Receivers, payloads: Record<SinkName, Payload[]>): Promise<number> {
  await receivers.ask('clear');
  progress('baseline: plain undici POST loop per receiver');
  const seconds = await Promise.all(SINKS.map((s) => postLoop(payloads[s])));
  const counts = await receivers.ask<Record<SinkName, number>>('counts');
  for (const s of SINKS) {
    if (counts[s] < N) throw new Error(`baseline: ${s} accepted ${counts[s]} of ${N}`);
  }
  progress(`raw: ${SINKS.map((s, i) => `${s} ${(N / seconds[i]!).toFixed(0)}/s`).join(', ')}`);
  return Math.min(...seconds.map((sec) => N / sec));
}

/** Seconds to POST every payload, one at a time, with undici's default keep-alive agent. */
async function postLoop(payloads: Payload[]): Promise<number> {
  const started = performance.now();
  for (const p of payloads) {
    const res = await request(p.url, { method: 'POST', headers: p.headers, body: p.body });
    await res.body.text();
    if (res.statusCode >= 300) throw new Error(`baseline: ${p.url} answered ${res.statusCode}`);
  }
  return (performance.now() - started) / 1000;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
