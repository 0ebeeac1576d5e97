// The API's metrics: request durations by route and status, live-tail clients and cut-offs.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createApiMetrics(registry = new Registry()) {
  return {
    registry,
    requests: new Histogram({
      name: 'ledgerhub_api_request_duration_seconds',
      help: 'API request duration by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'ledgerhub_api_errors_total',
      help: 'API error responses by stable code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: 'ledgerhub_api_tail_clients',
      help: 'Live-tail streams open.',
      registers: [registry],
    }),
    sseEvents: new Counter({
      name: 'ledgerhub_api_tail_events_total',
      help: 'Events written to live-tail streams.',
      registers: [registry],
    }),
    sseCut: new Counter({
      name: 'ledgerhub_api_tail_cut_total',
      help: 'Live-tail streams closed by the server, by reason (slow_consumer, shutdown).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    tailHead: new Gauge({
      name: 'ledgerhub_api_tail_head_seq',
      help: 'Last ledger_seq the live tail has read.',
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
