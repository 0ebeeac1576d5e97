// bench:query — N events (default 2,000,000) over 30 days and 20 zones, then latency percentiles of
// explain, list pages, filtered list pages, and emit-to-SSE delivery of the live tail.
//
// Last line: bench:query rows=<N> explain_p50_ms=<..> explain_p99_ms=<..> list_p99_ms=<..>
//            filtered_p99_ms=<..> tail_p99_ms=<..>
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { newToken } from '../api/auth.ts';
import { startApi } from '../api/main.ts';
import { loadConfig } from '../ledger/config/keys.ts';
import { apiKeys, workerKeys } from '../ledger/config/roles.ts';
import { connectClient } from '../ledger/db.ts';
import { createRedis } from '../ledger/redis.ts';
import { realisticEvents, seededRng } from '../ledger/scenarios.ts';
import { encodeStreamFields, hmacKeyFromBytes } from '../ledger/stream-codec.ts';
import { connectSse } from '../test/support/sse-client.ts';
import { startWorker } from '../worker/main.ts';
import { benchArgs, benchStack, progress, result } from './harness.ts';
import { loadLedger } from './ledger-loader.ts';

const args = benchArgs({ events: '2000000', days: '30', zones: '20', samples: '400', 'tail-events': '300' });
const N = Number(args.events);
const SAMPLES = Number(args.samples);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main() {
  const stack = await benchStack();
  const keyBytes = randomBytes(32);
  const key = hmacKeyFromBytes(keyBytes);
  const loader = await connectClient({ databaseUrl: stack.databaseUrl });
  const denied: { requestId: string; zone: string }[] = [];
  const rng = seededRng(99);
  progress(`loading ${N} events over ${args.days} days and ${args.zones} zones`);
  const t0 = performance.now();
  await loadLedger(loader, {
    events: N,
    days: Number(args.days),
    zones: Number(args.zones),
    key,
    onRequest: (requestId, zone, type, decision) => {
      if (type === 'token_exchange' && decision === 'deny' && denied.length < 50_000 && rng() < 0.2)
        denied.push({ requestId, zone });
    },
  });
  await loader.end();
  progress(`loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const env = {
    REDIS_URL: stack.redisUrl,
    DATABASE_URL: stack.databaseUrl,
    AUDIT_HMAC_KEY: keyBytes.toString('hex'),
    LOG_LEVEL: 'warn',
  };
  const token = newToken('bench', ['audit:read']);
  const api = await startApi(
    loadConfig('api', apiKeys, {
      ...env,
      PORT: '0',
      LEDGERHUB_API_HOST: '127.0.0.1',
      LEDGERHUB_DB_ROLE: 'ledgerhub_reader',
      LEDGERHUB_API_TOKENS: JSON.stringify([token.entry]),
    }),
  );
  const headers = { authorization: `Bearer ${token.token}` };
  const time = async (path: string): Promise<number> => {
    const s = performance.now();
    const r = await request(`${api.url}${path}`, { headers });
    await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${path} answered ${r.statusCode}`);
    return performance.now() - s;
  };
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
  const zone = () => `zone-${String(Math.floor(rng() * Number(args.zones))).padStart(2, '0')}`;

  // warm the caches the way a running API is warm
  for (let i = 0; i < 50; i++) await time(`/v1/zones/${zone()}/audit?limit=100`);

  progress(`explain × ${SAMPLES}`);
  const explain: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const d = pick(denied);
    explain.push(await time(`/v1/zones/${d.zone}/audit/by-request/${d.requestId}/explain`));
  }

  progress(`list pages × ${SAMPLES}`);
  const list: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const z = zone();
    list.push(await time(`/v1/zones/${z}/audit?limit=100`));
  }

  progress(`filtered pages × ${SAMPLES}`);
  const filters = [
    'decision=deny',
    'event_type=gateway_resource_request',
    'event_type=step_up_issued,step_up_decided,step_up_consumed',
    'label=finance',
    'application_id=app_billing_sync',
    'decision=deny&event_type=token_exchange',
    `since=${new Date(Date.now() - 3 * 86_400_000).toISOString()}&decision=deny`,
  ];
  const filtered: number[] = [];
  for (let i = 0; i < SAMPLES; i++)
    filtered.push(await time(`/v1/zones/${zone()}/audit?limit=100&${pick(filters)}`));

  progress(`live tail: emit-to-SSE latency over ${args['tail-events']} events`);
  const worker = await startWorker(
    loadConfig('worker', workerKeys, { ...env, PORT: '0', AUDIT_BLOCK_MS: '100' }),
  );
  const sse = await connectSse(`${api.url}/v1/zones/zone-tail/audit/stream`, headers);
  const redis = createRedis(stack.redisUrl, 'bench-tail');
  const sentAt = new Map<string, number>();
  const tail: number[] = [];
  const received = new Promise<void>((resolve) => {
    const seen = new Set<string>();
    const check = () => {
      for (const e of sse.events) {
        if (e.event !== 'audit') continue;
        const id = (JSON.parse(e.data) as { id: string }).id;
        if (seen.has(id)) continue;
        seen.add(id);
        tail.push(performance.now() - sentAt.get(id)!);
      }
      if (seen.size >= Number(args['tail-events'])) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  const tailEvents = realisticEvents(Number(args['tail-events']), { seed: 5, zones: ['zone-tail'] });
  for (const e of tailEvents) {
    sentAt.set(e.id, performance.now());
    await redis.xadd('caracal.audit.events', '*', ...encodeStreamFields(e.id, JSON.stringify(e), key));
    await new Promise((r) => setTimeout(r, 10)); // ~100 events/s, a realistic steady rate
  }
  await received;
  sse.close();
  redis.disconnect();
  await worker.stop();
  await api.stop();
  await stack.stop();

  result('bench:query', {
    rows: N,
    explain_p50_ms: Number(percentile(explain, 50).toFixed(1)),
    explain_p99_ms: Number(percentile(explain, 99).toFixed(1)),
    list_p99_ms: Number(percentile(list, 99).toFixed(1)),
    filtered_p99_ms: Number(percentile(filtered, 99).toFixed(1)),
    tail_p99_ms: Number(percentile(tail, 99).toFixed(1)),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
