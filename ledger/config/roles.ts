// One typed configuration schema per role, composed from shared keys. The operator renders ConfigMaps
// from these same definitions, so what it writes is exactly what the roles read.
import { type HmacKey, parseHmacKey } from '../stream-codec.ts';
import { boolKey, customKey, enumKey, intKey, type Keys, stringKey, urlKey } from './keys.ts';

const hmacKey = customKey<HmacKey | null>(
  'AUDIT_HMAC_KEY',
  'hex, at least 32 bytes',
  (raw) => parseHmacKey(raw),
  {
    default: null,
    defaultDoc: '(unset: signatures not checked, chain_hmac empty)',
    doc: 'Verifies producer `sig` fields and keys the chain HMAC. Required in production mode. `_FILE` supported.',
    secret: true,
  },
);

/** Where `ledgerhub dev` (npm start) runs its local servers: the defaults, so CLI commands find them. */
export const DEV_REDIS_PORT = 56379;
export const DEV_PG_PORT = 55432;

export const connectionKeys = {
  redisUrl: urlKey('REDIS_URL', ['redis:', 'rediss:'], {
    default: `redis://127.0.0.1:${DEV_REDIS_PORT}`,
    defaultDoc: `redis://127.0.0.1:${DEV_REDIS_PORT} (the local stack of \`npm start\`)`,
    doc: 'Redis holding the audit stream, the DLQ and (forwarder) the BullMQ queues.',
  }),
  databaseUrl: urlKey('DATABASE_URL', ['postgres:', 'postgresql:'], {
    default: `postgres://postgres@127.0.0.1:${DEV_PG_PORT}/ledgerhub`,
    defaultDoc: `postgres://postgres@127.0.0.1:${DEV_PG_PORT}/ledgerhub (the local stack of \`npm start\`)`,
    doc: 'Postgres holding the ledger.',
  }),
  dbRole: stringKey(
    'LEDGERHUB_DB_ROLE',
    {
      default: '',
      doc: 'Role to `SET ROLE` to after connecting (e.g. `ledgerhub_ingest`), so a shared login runs with least privilege.',
    },
    /^$|^[a-z_][a-z0-9_]{0,62}$/,
  ),
  dbMaxConns: intKey('DB_MAX_CONNS', 1, 500, { default: 10, doc: 'Postgres pool size.' }),
  dbConnectTimeoutMs: intKey('DB_CONNECT_TIMEOUT_MS', 100, 120_000, {
    default: 10_000,
    doc: 'Postgres connect timeout.',
  }),
} satisfies Keys;

export const streamKeys = {
  stream: stringKey(
    'AUDIT_STREAM',
    { default: 'caracal.audit.events', doc: 'The audit stream producers XADD to.' },
    /^[\w.:-]{1,200}$/,
  ),
  dlqStream: stringKey(
    'AUDIT_DLQ_STREAM',
    { default: 'caracal.audit.events.dlq', doc: 'The dead-letter stream.' },
    /^[\w.:-]{1,200}$/,
  ),
  hmacKey,
} satisfies Keys;

export const runtimeKeys = {
  mode: enumKey('LEDGERHUB_MODE', ['development', 'production'] as const, {
    default: 'development',
    doc: 'In production the HMAC key is required and /metrics needs METRICS_BEARER. `CARACAL_MODE=rc|stable` also means production.',
  }),
  caracalMode: stringKey('CARACAL_MODE', {
    default: '',
    doc: 'Caracal compatibility: `rc` and `stable` are production modes.',
  }),
  logLevel: enumKey('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, {
    default: 'info',
    doc: 'Log level (JSON lines on stdout).',
  }),
  metricsBearer: stringKey('METRICS_BEARER', {
    default: '',
    defaultDoc: '(unset: /metrics open in development)',
    doc: 'Bearer token required on /metrics. `_FILE` supported.',
    secret: true,
  }),
} satisfies Keys;

export const workerKeys = {
  ...connectionKeys,
  ...streamKeys,
  ...runtimeKeys,
  consumer: stringKey(
    'HOSTNAME',
    {
      default: 'audit-worker-0',
      doc: 'Consumer name in the `audit-ingestor` group (the pod name in Kubernetes).',
    },
    /^[\w.:-]{1,200}$/,
  ),
  port: intKey('PORT', 0, 65535, { default: 9090, doc: 'HTTP port for /health, /ready and /metrics.' }),
  batchSize: intKey('AUDIT_BATCH_SIZE', 1, 10_000, {
    default: 1000,
    doc: 'Messages read per XREADGROUP and stored per transaction (at most two more batches are read ahead).',
  }),
  blockMs: intKey('AUDIT_BLOCK_MS', 1, 60_000, { default: 2000, doc: 'XREADGROUP BLOCK time.' }),
  maxDeliveries: intKey('AUDIT_MAX_DELIVERIES', 1, 1000, {
    default: 8,
    doc: 'Attempts before a message failing with a transient Postgres error is dead-lettered (replayable).',
  }),
  claimIdleSecs: intKey('AUDIT_CLAIM_IDLE_SECS', 1, 86_400, {
    default: 30,
    doc: 'Reaper period and the idle time after which another consumer’s pending message is reclaimed (XAUTOCLAIM).',
  }),
  maxMessageBytes: intKey('AUDIT_MAX_MESSAGE_BYTES', 1024, 64 * 1024 * 1024, {
    default: 1_048_576,
    doc: 'Messages larger than this are dead-lettered (`message_too_large`).',
  }),
  retryBaseMs: intKey('AUDIT_RETRY_BASE_MS', 1, 60_000, {
    default: 250,
    doc: 'First back-off after a transient Postgres error.',
  }),
  retryMaxMs: intKey('AUDIT_RETRY_MAX_MS', 1, 600_000, { default: 15_000, doc: 'Back-off ceiling.' }),
  trimIntervalSecs: intKey('AUDIT_TRIM_INTERVAL_SECS', 0, 86_400, {
    default: 60,
    doc: 'How often the stream is trimmed below what every consumer group acknowledged (0 = never).',
  }),
  statsIntervalSecs: intKey('AUDIT_STATS_INTERVAL_SECS', 1, 3600, {
    default: 10,
    doc: 'How often lag, oldest-pending and DLQ gauges are refreshed.',
  }),
  readyDlqMax: intKey('AUDIT_READY_DLQ_MAX', 0, Number.MAX_SAFE_INTEGER, {
    default: 0,
    defaultDoc: '0 (off)',
    doc: '/ready fails (`audit_dlq_threshold`) when the DLQ holds more than this.',
  }),
  readyLagMax: intKey('AUDIT_READY_LAG_MAX', 0, Number.MAX_SAFE_INTEGER, {
    default: 0,
    defaultDoc: '0 (off)',
    doc: '/ready fails (`audit_lag_threshold`) when pending + undelivered messages exceed this.',
  }),
  readyPelOldestSecsMax: intKey('AUDIT_READY_PEL_OLDEST_SECS_MAX', 0, Number.MAX_SAFE_INTEGER, {
    default: 0,
    defaultDoc: '0 (off)',
    doc: '/ready fails (`audit_pel_oldest_threshold`) when the oldest pending message is older than this.',
  }),
  shutdownTimeoutMs: intKey('LEDGERHUB_SHUTDOWN_TIMEOUT_MS', 100, 600_000, {
    default: 30_000,
    doc: 'On SIGTERM, how long the batch in flight may take before the process exits anyway.',
  }),
  classifyThread: boolKey('AUDIT_CLASSIFY_THREAD', {
    default: true,
    doc: 'Parse, validate and hash messages on a second thread, so Postgres round trips never wait on CPU work.',
  }),
  partitionAheadDays: intKey('LEDGERHUB_PARTITION_AHEAD_DAYS', 1, 365, {
    default: 7,
    doc: 'Daily partitions kept created ahead of today (checked at start and hourly).',
  }),
  notifyCommits: boolKey('LEDGERHUB_NOTIFY_COMMITS', {
    default: true,
    doc: 'NOTIFY `ledgerhub_commits` after each batch so the API tail and the forwarder wake at once.',
  }),
} satisfies Keys;

export const migrateKeys = { ...connectionKeys, ...runtimeKeys } satisfies Keys;

export const verifyKeys = {
  ...connectionKeys,
  ...runtimeKeys,
  hmacKey,
} satisfies Keys;

/** Production mode: LEDGERHUB_MODE=production, or Caracal's published modes. */
export function isProduction(c: { mode: string; caracalMode: string }): boolean {
  return c.mode === 'production' || c.caracalMode === 'rc' || c.caracalMode === 'stable';
}

/** Caracal's AUDIT_RETENTION_DAYS: shared by the API (which may only shorten it) and the retention job. */
export const retentionCeilingDays = intKey('AUDIT_RETENTION_DAYS', 1, 36_500, {
  default: 365,
  doc: 'Ceiling on retention, as in Caracal: `PUT /v1/audit-retention` may only shorten it (`retention_above_limit`).',
});

/** The admin API and console (`ledgerhub api`). */
export const apiKeys = {
  ...connectionKeys,
  ...streamKeys,
  ...runtimeKeys,
  port: intKey('PORT', 0, 65535, { default: 8080, doc: 'HTTP port of the API, the console and the probes.' }),
  host: stringKey('LEDGERHUB_API_HOST', { default: '0.0.0.0', doc: 'Address the API listens on.' }),
  apiTokens: stringKey('LEDGERHUB_API_TOKENS', {
    default: '',
    defaultDoc: '(unset: every /v1 route answers 401)',
    doc: 'JSON list of API tokens as hashes: `[{"name":"console","sha256":"<hex of the token>","scopes":["audit:read"]}]`; scopes `audit:read`, `audit:admin`. Make one with `ledgerhub token new`. `_FILE` supported.',
    secret: true,
  }),
  retentionCeilingDays,
  bodyLimitBytes: intKey('LEDGERHUB_API_BODY_LIMIT_BYTES', 1024, 10 * 1024 * 1024, {
    default: 65_536,
    doc: 'Largest request body accepted (`payload_too_large` beyond it).',
  }),
  sseHeartbeatSecs: intKey('LEDGERHUB_SSE_HEARTBEAT_SECS', 1, 300, {
    default: 15,
    doc: 'Comment lines sent on idle live-tail streams so proxies keep them open.',
  }),
  sseClientBuffer: intKey('LEDGERHUB_SSE_CLIENT_BUFFER', 10, 100_000, {
    default: 1000,
    doc: 'Events buffered for one live-tail client; a client that falls further behind is cut off with a reason.',
  }),
  sseMaxClients: intKey('LEDGERHUB_SSE_MAX_CLIENTS', 1, 10_000, {
    default: 200,
    doc: 'Live-tail streams served at once (503 beyond).',
  }),
  serveConsole: boolKey('LEDGERHUB_CONSOLE', { default: true, doc: 'Serve the web console at `/`.' }),
} satisfies Keys;

/** CLI commands that talk to the API (`audit tail`, `explain`, `dlq`). */
export const apiClientKeys = {
  apiUrl: urlKey('LEDGERHUB_API_URL', ['http:', 'https:'], {
    default: 'http://127.0.0.1:58080',
    defaultDoc: 'http://127.0.0.1:58080 (the local stack of `npm start`)',
    doc: 'Base URL of the ledgerhub API the CLI talks to.',
  }),
  token: stringKey('LEDGERHUB_TOKEN', {
    default: '',
    doc: 'Bearer token the CLI sends (`audit:read`; `audit:admin` to replay). `_FILE` supported.',
    secret: true,
  }),
  zone: stringKey('LEDGERHUB_ZONE', { default: '', doc: 'Default zone for CLI commands given no `--zone`.' }),
} satisfies Keys;
