// The forwarder role's configuration (`ledgerhub forwarder`) and the sinks CLI's: connection and runtime
// keys shared with every role, plus the forwarder's bounds. The sinks themselves come from a file
// (LEDGERHUB_SINKS_FILE, see ledger/sinks/sinks-file.ts), their Secrets from LEDGERHUB_SECRETS_DIR.
import { DEFAULT_SECRETS_DIR } from '../sinks/secret-source.ts';
import { intKey, type Keys, stringKey } from './keys.ts';
import { connectionKeys, runtimeKeys, workerKeys } from './roles.ts';

export const forwarderKeys = {
  ...connectionKeys,
  ...runtimeKeys,
  instance: stringKey(
    'HOSTNAME',
    {
      default: 'forwarder-0',
      doc: 'This replica’s name (the pod name in Kubernetes), in logs and Redis client names.',
    },
    /^[\w.-]{1,200}$/,
  ),
  port: intKey('PORT', 0, 65535, { default: 9090, doc: 'HTTP port for /health, /ready and /metrics.' }),
  sinksFile: stringKey('LEDGERHUB_SINKS_FILE', {
    default: '',
    defaultDoc: '(unset: no sinks)',
    doc: 'JSON file listing the sinks to deliver to (`{"sinks":[{name, spec, route}]}`, see docs/forwarder.md).',
  }),
  secretsDir: stringKey('LEDGERHUB_SECRETS_DIR', {
    default: DEFAULT_SECRETS_DIR,
    doc: 'Where sink Secrets are mounted, one folder per Secret (`<dir>/<secret>/<key>`); `LEDGERHUB_SECRET_<SECRET>_<KEY>` variables are the fallback.',
  }),
  secretRefreshMs: intKey('LEDGERHUB_SECRETS_REFRESH_MS', 0, 3_600_000, {
    default: 30_000,
    doc: 'How long a sink Secret read from its mount is reused; a rotated Secret is picked up within this time.',
  }),
  queuePrefix: stringKey(
    'LEDGERHUB_FORWARDER_PREFIX',
    {
      default: 'ledgerhub-fwd',
      doc: 'Redis key prefix of the forwarder’s BullMQ queues (one queue per sink).',
    },
    /^[\w.-]{1,64}$/,
  ),
  maxQueuedBatches: intKey('LEDGERHUB_FORWARDER_MAX_QUEUED_BATCHES', 1, 10_000, {
    default: 64,
    doc: 'Batches per sink waiting or in flight; the dispatcher stops enqueuing beyond it, so Redis memory stays bounded.',
  }),
  scanEvents: intKey('LEDGERHUB_FORWARDER_SCAN_EVENTS', 100, 1_000_000, {
    default: 20_000,
    doc: 'Most committed events the dispatcher reads per round and sink.',
  }),
  cacheEvents: intKey('LEDGERHUB_FORWARDER_CACHE_EVENTS', 0, 1_000_000, {
    default: 20_000,
    doc: 'Committed events kept in memory so sinks reading the same range share one read (0 reads per sink).',
  }),
  pollIntervalMs: intKey('LEDGERHUB_FORWARDER_POLL_MS', 100, 600_000, {
    default: 5000,
    doc: 'Safety poll of the commit log; commit notifications (LISTEN ledgerhub_commits) wake the dispatcher at once.',
  }),
  reconcileIntervalMs: intKey('LEDGERHUB_FORWARDER_RECONCILE_MS', 100, 3_600_000, {
    default: 10_000,
    doc: 'How often pending batches are checked against Redis and re-enqueued when Redis lost them.',
  }),
  healthIntervalMs: intKey('LEDGERHUB_FORWARDER_HEALTH_MS', 100, 600_000, {
    default: 5000,
    doc: 'How often queue, lag and breaker gauges are refreshed; also the least time between two error writes to sink health.',
  }),
  lockDurationMs: intKey('LEDGERHUB_FORWARDER_LOCK_MS', 1000, 600_000, {
    default: 30_000,
    doc: 'BullMQ job lock: a job held by a replica that died is delivered again after about this long.',
  }),
  keepJobs: intKey('LEDGERHUB_FORWARDER_KEEP_JOBS', 0, 1_000_000, {
    default: 1000,
    doc: 'Completed and failed jobs kept per queue (for inspection and de-duplication).',
  }),
  keepJobsSeconds: intKey('LEDGERHUB_FORWARDER_KEEP_JOBS_SECS', 0, 30 * 86_400, {
    default: 3600,
    doc: 'Completed and failed jobs are removed after this many seconds.',
  }),
  receiptDays: intKey('LEDGERHUB_FORWARDER_RECEIPT_DAYS', 0, 3650, {
    default: 7,
    doc: 'Delivery receipts (finished batches) are kept this many days (0 keeps them forever).',
  }),
  shutdownTimeoutMs: workerKeys.shutdownTimeoutMs,
} satisfies Keys;

/** `ledgerhub sinks`: reads sink health and dead letters, asks for replays. */
export const sinksCliKeys = { ...connectionKeys, ...runtimeKeys } satisfies Keys;
