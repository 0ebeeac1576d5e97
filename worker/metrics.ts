// The ingestion worker's metrics: Caracal's caracal_audit_* names where one exists, ledgerhub_* for the rest.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createWorkerMetrics(registry = new Registry()) {
  const m = {
    registry,
    inserts: new Counter({
      name: 'caracal_audit_inserts_total',
      help: 'Events stored in audit_events.',
      registers: [registry],
    }),
    parseErrors: new Counter({
      name: 'caracal_audit_parse_errors_total',
      help: 'Messages whose data was not valid JSON or did not match the event contract.',
      registers: [registry],
    }),
    dlqTotal: new Counter({
      name: 'caracal_audit_dlq_total',
      help: 'Messages written to the dead-letter stream, by reason kind.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'caracal_audit_retries_total',
      help: 'Batch attempts retried after a transient Postgres error.',
      registers: [registry],
    }),
    hmacFailures: new Counter({
      name: 'caracal_audit_hmac_failures_total',
      help: 'Messages refused because the producer signature was missing or wrong.',
      registers: [registry],
    }),
    tamperReplays: new Counter({
      name: 'caracal_audit_tamper_replay_total',
      help: 'Replays of a stored event id with different content (refused and alerted).',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'ledgerhub_ingest_duplicates_total',
      help: 'Redelivered messages whose event was already stored with the same content.',
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'caracal_audit_consumer_lag',
      help: 'Messages pending in the audit-ingestor group (XPENDING count).',
      registers: [registry],
    }),
    undelivered: new Gauge({
      name: 'ledgerhub_stream_undelivered',
      help: 'Messages in the stream not yet delivered to the audit-ingestor group (XINFO GROUPS lag).',
      registers: [registry],
    }),
    pelOldest: new Gauge({
      name: 'caracal_audit_consumer_pel_oldest_seconds',
      help: 'Age of the oldest pending message.',
      registers: [registry],
    }),
    dlqSize: new Gauge({
      name: 'caracal_audit_dlq_size',
      help: 'Length of the dead-letter stream.',
      registers: [registry],
    }),
    dlqOldest: new Gauge({
      name: 'caracal_audit_dlq_oldest_age_seconds',
      help: 'Age of the oldest dead letter.',
      registers: [registry],
    }),
    streamLength: new Gauge({
      name: 'ledgerhub_stream_length',
      help: 'Length of the audit stream.',
      registers: [registry],
    }),
    trimmed: new Counter({
      name: 'ledgerhub_stream_trimmed_total',
      help: 'Entries trimmed from the stream after every group acknowledged them.',
      registers: [registry],
    }),
    lostPending: new Counter({
      name: 'ledgerhub_stream_lost_pending_total',
      help: 'Pending entries that vanished from the stream before they were acknowledged (evidence loss: page someone).',
      registers: [registry],
    }),
    reclaimed: new Counter({
      name: 'ledgerhub_ingest_reclaimed_total',
      help: 'Pending messages reclaimed from idle consumers (XAUTOCLAIM).',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'ledgerhub_ingest_batch_size',
      help: 'Messages per batch.',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'ledgerhub_ingest_commit_seconds',
      help: 'Time to store one batch in Postgres (one transaction).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    ledgerSeq: new Gauge({
      name: 'ledgerhub_ledger_seq',
      help: 'Last ledger_seq this worker committed.',
      registers: [registry],
    }),
    postgresUp: new Gauge({
      name: 'ledgerhub_ingest_postgres_up',
      help: '1 when Postgres answers.',
      registers: [registry],
    }),
    redisUp: new Gauge({
      name: 'ledgerhub_ingest_redis_up',
      help: '1 when Redis answers.',
      registers: [registry],
    }),
  };
  m.postgresUp.set(1);
  m.redisUp.set(1);
  return m;
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
