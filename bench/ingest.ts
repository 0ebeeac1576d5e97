// bench:ingest — N realistic signed events XADDed, then one worker (a child process) ingests them.
// Baselines in the same run, on the same Postgres: a raw COPY of the same rows into an identical
// table without chain columns, and Caracal's per-event algorithm (advisory lock, head read, one
// insert per transaction) over a sample.
//
// Last line: bench:ingest events=<N> eps=<ours> copy_eps=<raw> ratio=<ours/raw>
//            per_event_eps=<caracal> speedup=<ours/caracal> rss_mb=<peak worker RSS>
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { copyRows } from '../ledger/append-batch.ts';
import { chainHmac, contentSha256, parseOccurredAt } from '../ledger/chain.ts';
import { connectClient, createPool } from '../ledger/db.ts';
import { CONTENT_COLUMNS, contentValues, prepareEvent } from '../ledger/prepare-event.ts';
import { createRedis } from '../ledger/redis.ts';
import { realisticEvents } from '../ledger/scenarios.ts';
import { encodeStreamFields, type HmacKey, hmacKeyFromBytes } from '../ledger/stream-codec.ts';
import {
  benchArgs,
  benchStack,
  pollUntil,
  progress,
  result,
  spawnAsDeployed,
  watchProcess,
} from './harness.ts';

const args = benchArgs({ events: '200000', sample: '5000', batch: '1000' });
const N = Number(args.events);
const SAMPLE = Math.min(Number(args.sample), N);
const STREAM = 'caracal.audit.events';

const RAW_COLUMNS = CONTENT_COLUMNS;

async function main() {
  const stack = await benchStack();
  const keyBytes = randomBytes(32);
  const key = hmacKeyFromBytes(keyBytes);
  const now = Date.now();
  progress(`generating ${N} realistic events over 8 zones`);
  const zones = Array.from({ length: 8 }, (_, i) => `zone-bench-${i}`);
  const events = realisticEvents(N, { seed: 42, zones, startMs: now - 6 * 3600_000, endMs: now });

  const redis = createRedis(stack.redisUrl, 'bench-ingest');
  progress('XADDing signed messages');
  for (let i = 0; i < events.length; i += 2000) {
    const p = redis.pipeline();
    for (const e of events.slice(i, i + 2000))
      p.xadd(STREAM, '*', ...encodeStreamFields(e.id, JSON.stringify(e), key));
    await p.exec();
  }
  const pool = createPool({ databaseUrl: stack.databaseUrl, dbMaxConns: 4 });

  // --- ours: one worker process, run as the image runs it (compiled JavaScript, the image's Node options)
  progress('ingesting with one worker (built as the image holds it)');
  const worker = spawnAsDeployed(
    'worker',
    [],
    {
      REDIS_URL: stack.redisUrl,
      DATABASE_URL: stack.databaseUrl,
      LEDGERHUB_DB_ROLE: 'ledgerhub_ingest',
      AUDIT_HMAC_KEY: keyBytes.toString('hex'),
      AUDIT_BATCH_SIZE: args.batch,
      HOSTNAME: 'bench-worker',
      PORT: '0',
      LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
    },
    {
      nodeArgsOverride: process.env.BENCH_WORKER_NODE_ARGS,
      stdio: ['ignore', process.env.BENCH_WORKER_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
    },
  );
  const seq = async () =>
    (await pool.query<{ s: number }>('SELECT last_ledger_seq AS s FROM audit_ledger_state')).rows[0]!.s;
  const watch = watchProcess(worker.pid!);
  await pollUntil(async () => (await seq()) > 0, 10);
  const t0 = performance.now();
  const s0 = await seq();
  let lastReport = 0;
  await pollUntil(async () => {
    const s = await seq();
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(`  ${s}/${N}`);
    }
    return s >= N;
  }, 20);
  const oursSeconds = (performance.now() - t0) / 1000;
  const eps = (N - s0) / oursSeconds;
  const { peakRssMb } = watch.stop();
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  progress(`ours: ${eps.toFixed(0)} events/s`);

  // --- raw COPY into an identical table without the chain columns
  const admin = await connectClient({ databaseUrl: stack.databaseUrl });
  await createEventTable(admin, 'bench_raw_events', false);
  const rows = events.map((e) => {
    const p = prepareEvent(JSON.stringify(e), null);
    if (!p.ok) throw new Error(p.error);
    return contentValues(p.event);
  });
  progress('raw COPY of the same rows');
  const c0 = performance.now();
  await admin.query('BEGIN');
  await copyRows(admin, `COPY bench_raw_events (${RAW_COLUMNS.join(', ')}) FROM STDIN`, rows);
  await admin.query('COMMIT');
  const copyEps = N / ((performance.now() - c0) / 1000);
  progress(`raw COPY: ${copyEps.toFixed(0)} rows/s`);

  // --- Caracal's algorithm: one event per transaction
  progress(`Caracal per-event algorithm over ${SAMPLE} events`);
  await createEventTable(admin, 'caracal_events', true);
  const p0 = performance.now();
  for (const e of events.slice(0, SAMPLE)) await caracalInsertOne(admin, JSON.stringify(e), key);
  const perEventEps = SAMPLE / ((performance.now() - p0) / 1000);
  progress(`per-event: ${perEventEps.toFixed(0)} events/s`);

  await admin.end();
  await pool.end();
  redis.disconnect();
  await stack.stop();
  result('bench:ingest', {
    events: N,
    eps: Math.round(eps),
    copy_eps: Math.round(copyEps),
    ratio: Number((eps / copyEps).toFixed(2)),
    per_event_eps: Math.round(perEventEps),
    speedup: Number((eps / perEventEps).toFixed(1)),
    rss_mb: peakRssMb,
  });
}

/** audit_events' shape, partitions and indexes; with `chain`, Caracal's chain columns and index too. */
async function createEventTable(admin: pg.Client, name: string, chain: boolean) {
  const chainColumns = chain
    ? `content_sha256 text, prev_content_sha256 text, chain_hmac text, chain_seq bigint, ingest_signature text,`
    : '';
  await admin.query(`CREATE TABLE ${name} (
    id text NOT NULL, zone_id text NOT NULL, event_type text NOT NULL, request_id text, decision text,
    policy_set_id text, policy_set_version_id text, manifest_sha text, evaluation_status text,
    determining_policies_json jsonb, diagnostics_json jsonb, metadata_json jsonb,
    occurred_at timestamptz NOT NULL, ingested_at timestamptz NOT NULL DEFAULT now(), ${chainColumns}
    PRIMARY KEY (id, occurred_at)) PARTITION BY RANGE (occurred_at)`);
  await admin.query(`CREATE TABLE ${name}_default PARTITION OF ${name} DEFAULT`);
  const { rows } = await admin.query<{ part: string; bound: string }>(
    `SELECT c.relname AS part, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_events'::regclass AND c.relname <> 'audit_events_default'`,
  );
  for (const r of rows) {
    await admin.query(`CREATE TABLE ${r.part.replace('audit_events', name)} PARTITION OF ${name} ${r.bound}`);
  }
  const indexes = [
    `CREATE INDEX ON ${name} (request_id) WHERE request_id IS NOT NULL`,
    `CREATE INDEX ON ${name} (zone_id, occurred_at DESC, id DESC)`,
    `CREATE INDEX ON ${name} ((metadata_json->>'agent_session_id')) WHERE metadata_json ? 'agent_session_id'`,
    `CREATE INDEX ON ${name} ((metadata_json->>'session_id')) WHERE metadata_json ? 'session_id'`,
    `CREATE INDEX ON ${name} USING gin ((metadata_json->'agent_labels'))`,
    `CREATE INDEX ON ${name} USING brin (ingested_at)`,
  ];
  if (chain) indexes.push(`CREATE INDEX ON ${name} (zone_id, chain_seq DESC)`);
  for (const ddl of indexes) await admin.query(ddl);
}

/** Caracal's services/audit/internal/pg.go insert, one event per READ COMMITTED transaction. */
async function caracalInsertOne(c: pg.Client, data: string, key: HmacKey) {
  const e = JSON.parse(data) as Record<string, unknown>;
  await c.query('BEGIN');
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [e.zone_id]);
  const canon = await c.query<{ a: string; b: string; m: string | null }>(
    'SELECT $1::jsonb::text AS a, $2::jsonb::text AS b, $3::jsonb::text AS m',
    [
      JSON.stringify(e.determining_policies_json),
      JSON.stringify(e.diagnostics_json),
      e.metadata_json === undefined ? null : JSON.stringify(e.metadata_json),
    ],
  );
  const head = await c.query<{ content_sha256: string; chain_seq: number }>(
    'SELECT content_sha256, chain_seq FROM caracal_events WHERE zone_id = $1 ORDER BY chain_seq DESC NULLS LAST LIMIT 1',
    [e.zone_id],
  );
  const ts = parseOccurredAt(e.occurred_at as string)!;
  const row = canon.rows[0]!;
  const fields = {
    id: e.id as string,
    zone_id: e.zone_id as string,
    event_type: e.event_type as string,
    request_id: e.request_id as string,
    decision: e.decision as string,
    policy_set_id: (e.policy_set_id as string) ?? null,
    policy_set_version_id: (e.policy_set_version_id as string) ?? null,
    manifest_sha: (e.manifest_sha as string) ?? null,
    evaluation_status: e.evaluation_status as string,
    determining_policies_json: row.a,
    diagnostics_json: row.b,
    metadata_json: row.m,
    occurred_at_us: ts.us,
  };
  const sha = contentSha256(fields);
  const prev = head.rows[0]?.content_sha256 ?? '';
  await c.query(
    `INSERT INTO caracal_events (id, zone_id, event_type, request_id, decision, policy_set_id, policy_set_version_id,
       manifest_sha, evaluation_status, determining_policies_json, diagnostics_json, metadata_json, occurred_at,
       content_sha256, prev_content_sha256, chain_hmac, chain_seq, ingest_signature)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) ON CONFLICT (id, occurred_at) DO NOTHING`,
    [
      fields.id,
      fields.zone_id,
      fields.event_type,
      fields.request_id,
      fields.decision,
      fields.policy_set_id,
      fields.policy_set_version_id,
      fields.manifest_sha,
      fields.evaluation_status,
      row.a,
      row.b,
      row.m,
      ts.iso,
      sha,
      prev || null,
      chainHmac(key, sha, prev),
      (head.rows[0]?.chain_seq ?? 0) + 1,
      'sig',
    ],
  );
  await c.query('COMMIT');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
