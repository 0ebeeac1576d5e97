// The operator's Prometheus metrics: reconciles and their durations, errors by reason, queue depth, API
// requests, watch restarts, leadership, ledger probes, and per-policy / per-sink health gauges that the
// chart's PrometheusRule alerts on.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'kind' | 'result'>;
  reconcileSeconds: Histogram<'kind'>;
  reconcileErrors: Counter<'kind' | 'reason'>;
  queueDepth: Gauge;
  apiRequests: Counter<'verb' | 'resource' | 'code'>;
  apiSeconds: Histogram<'verb'>;
  watchRestarts: Counter<'resource'>;
  leader: Gauge;
  probeSeconds: Histogram<'result'>;
  policyReady: Gauge<'namespace' | 'policy'>;
  policyLag: Gauge<'namespace' | 'policy'>;
  policyDeadLettered: Gauge<'namespace' | 'policy'>;
  policyIntegrityFailed: Gauge<'namespace' | 'policy'>;
  sinkFailing: Gauge<'namespace' | 'sink'>;
  sinkLag: Gauge<'namespace' | 'sink'>;
  sinkDeadLettered: Gauge<'namespace' | 'sink'>;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const p = 'ledgerhub_operator_';
  const per = (labels: string[]) => ({ labelNames: labels, registers: [registry] });
  return {
    registry,
    reconciles: new Counter({
      name: `${p}reconciles_total`,
      help: 'Reconciles by kind and result.',
      ...per(['kind', 'result']),
    }),
    reconcileSeconds: new Histogram({
      name: `${p}reconcile_duration_seconds`,
      help: 'Time one reconcile took.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ...per(['kind']),
    }),
    reconcileErrors: new Counter({
      name: `${p}reconcile_errors_total`,
      help: 'Failed reconciles by kind and reason (they are retried with back-off).',
      ...per(['kind', 'reason']),
    }),
    queueDepth: new Gauge({ name: `${p}queue_depth`, help: 'Objects waiting to be reconciled.', ...per([]) }),
    apiRequests: new Counter({
      name: `${p}api_requests_total`,
      help: 'Requests to the Kubernetes API server by verb, resource and HTTP code.',
      ...per(['verb', 'resource', 'code']),
    }),
    apiSeconds: new Histogram({
      name: `${p}api_request_duration_seconds`,
      help: 'Kubernetes API request latency.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      ...per(['verb']),
    }),
    watchRestarts: new Counter({
      name: `${p}watch_restarts_total`,
      help: 'Watches restarted after an error, by resource.',
      ...per(['resource']),
    }),
    leader: new Gauge({
      name: `${p}leader`,
      help: '1 while this replica holds the leader Lease.',
      ...per([]),
    }),
    probeSeconds: new Histogram({
      name: `${p}ledger_probe_duration_seconds`,
      help: 'Time one probe of a ledger’s Redis and Postgres took.',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 3, 10],
      ...per(['result']),
    }),
    policyReady: new Gauge({
      name: 'ledgerhub_policy_ready',
      help: '1 when the AuditPolicy is Ready.',
      ...per(['namespace', 'policy']),
    }),
    policyLag: new Gauge({
      name: 'ledgerhub_policy_ingest_lag',
      help: 'Stream entries waiting for the ingestion workers (last probe).',
      ...per(['namespace', 'policy']),
    }),
    policyDeadLettered: new Gauge({
      name: 'ledgerhub_policy_dlq_size',
      help: 'Entries in the dead-letter stream (last probe).',
      ...per(['namespace', 'policy']),
    }),
    policyIntegrityFailed: new Gauge({
      name: 'ledgerhub_policy_integrity_failed',
      help: '1 when the latest scheduled verification found faults.',
      ...per(['namespace', 'policy']),
    }),
    sinkFailing: new Gauge({
      name: 'ledgerhub_sink_failing',
      help: '1 when the sink is not delivering (breaker open or disabled).',
      ...per(['namespace', 'sink']),
    }),
    sinkLag: new Gauge({
      name: 'ledgerhub_sink_lag_events',
      help: 'Committed events not yet delivered to the sink (largest over its policies).',
      ...per(['namespace', 'sink']),
    }),
    sinkDeadLettered: new Gauge({
      name: 'ledgerhub_sink_dead_letters',
      help: 'Events waiting in the sink’s dead letters.',
      ...per(['namespace', 'sink']),
    }),
  };
}
