// The forwarder's Prometheus metrics, labelled by sink: queue depth, lag in events and seconds,
// delivered and dead-lettered counts, errors by kind, request and batch durations, breaker state.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from './breaker.ts';

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = {
  closed: 0,
  half_open: 1,
  open: 2,
  disabled: 3,
};

export function createForwarderMetrics(registry = new Registry()) {
  const sink = ['sink'] as const;
  return {
    registry,
    queueDepth: new Gauge({
      name: 'ledgerhub_forwarder_queue_jobs',
      help: 'BullMQ jobs of a sink’s queue by state (waiting, active, delayed, failed, completed).',
      labelNames: ['sink', 'state'],
      registers: [registry],
    }),
    pendingBatches: new Gauge({
      name: 'ledgerhub_forwarder_pending_batches',
      help: 'Batches planned and not yet finished (bounded by LEDGERHUB_FORWARDER_MAX_QUEUED_BATCHES).',
      labelNames: sink,
      registers: [registry],
    }),
    backpressure: new Counter({
      name: 'ledgerhub_forwarder_backpressure_total',
      help: 'Dispatch rounds that stopped because the sink’s queue was full.',
      labelNames: sink,
      registers: [registry],
    }),
    lagEvents: new Gauge({
      name: 'ledgerhub_forwarder_lag_events',
      help: 'Committed events after the sink’s cursor.',
      labelNames: sink,
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'ledgerhub_forwarder_lag_seconds',
      help: 'Age of the oldest committed event after the sink’s cursor.',
      labelNames: sink,
      registers: [registry],
    }),
    deliveredThrough: new Gauge({
      name: 'ledgerhub_forwarder_delivered_through',
      help: 'The sink’s durable cursor (ledger_seq).',
      labelNames: sink,
      registers: [registry],
    }),
    enqueuedThrough: new Gauge({
      name: 'ledgerhub_forwarder_enqueued_through',
      help: 'The last ledger_seq planned into a batch for the sink.',
      labelNames: sink,
      registers: [registry],
    }),
    deliveredEvents: new Counter({
      name: 'ledgerhub_forwarder_delivered_events_total',
      help: 'Events the sink accepted (replays included).',
      labelNames: sink,
      registers: [registry],
    }),
    deliveredBatches: new Counter({
      name: 'ledgerhub_forwarder_delivered_batches_total',
      help: 'Batches finished.',
      labelNames: sink,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'ledgerhub_forwarder_dead_lettered_events_total',
      help: 'Events put in the sink’s dead letters, by failure kind.',
      labelNames: ['sink', 'kind'],
      registers: [registry],
    }),
    deadLetters: new Gauge({
      name: 'ledgerhub_forwarder_dead_letters',
      help: 'Events in the sink’s dead-letter set now.',
      labelNames: sink,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'ledgerhub_forwarder_errors_total',
      help: 'Failed delivery attempts, by failure kind (transient, throttled, auth, config, data, gone, local).',
      labelNames: ['sink', 'kind'],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'ledgerhub_forwarder_requests_total',
      help: 'HTTP requests sent to the sink.',
      labelNames: sink,
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'ledgerhub_forwarder_attempt_seconds',
      help: 'Time of one delivery attempt of a batch (read, format, send, acknowledge), by outcome.',
      labelNames: ['sink', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    batchEvents: new Histogram({
      name: 'ledgerhub_forwarder_batch_events',
      help: 'Events per delivered batch.',
      labelNames: sink,
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'ledgerhub_forwarder_breaker_state',
      help: 'Circuit breaker: 0 closed, 1 half-open (probing), 2 open (paused), 3 disabled (410 Gone).',
      labelNames: sink,
      registers: [registry],
    }),
    replays: new Counter({
      name: 'ledgerhub_forwarder_replayed_events_total',
      help: 'Dead letters delivered by a replay.',
      labelNames: sink,
      registers: [registry],
    }),
    isDispatcher: new Gauge({
      name: 'ledgerhub_forwarder_is_dispatcher',
      help: '1 on the replica that holds the dispatch lock.',
      registers: [registry],
    }),
    redisUsedMemory: new Gauge({
      name: 'ledgerhub_forwarder_redis_used_memory_bytes',
      help: 'Redis used_memory (INFO memory), sampled with the other gauges.',
      registers: [registry],
    }),
  };
}

export type ForwarderMetrics = ReturnType<typeof createForwarderMetrics>;
