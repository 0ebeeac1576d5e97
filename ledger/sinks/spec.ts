// The shared definition of a SIEM sink and of a route to it: the zod schemas the operator turns into the
// AuditSink CRD and AuditPolicy.spec.sinks[] entries, and that the forwarder validates its sinks file with.
//
// Kept structural for the CRD: a plain object with a `type` enum and one optional block per type (not a
// discriminated union), defaults written with `.default(...)`, bounds with min/max, docs with `.describe()`.
import { z } from 'zod';

export const SINK_TYPES = ['splunkHec', 'elasticsearch', 'webhook'] as const;
export type SinkType = (typeof SINK_TYPES)[number];

export const SINK_FORMATS = ['caracal', 'ecs', 'ocsf'] as const;
export type SinkFormat = (typeof SINK_FORMATS)[number];

/** Kubernetes object names (DNS-1123 subdomain); also safe in BullMQ ids, Redis keys and webhook ids. */
export const SINK_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const SinkName = z
  .string()
  .min(1)
  .max(253)
  .regex(SINK_NAME, 'must be a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")')
  .describe('Sink name: the AuditSink object name.');

/** Defaults shared by every sink type; one place, so docs, CRD defaults and runtime agree. */
export const SINK_DEFAULTS = {
  batch: { events: 500, bytes: 1_000_000, waitMs: 1000 },
  retry: { initialMs: 1000, maxMs: 300_000, maxAttempts: 0 },
  breaker: { failureThreshold: 5, probeIntervalMs: 5000, maxProbeIntervalMs: 60_000 },
  tls: { insecureSkipVerify: false },
  concurrency: 4,
  timeoutMs: 30_000,
  indexerAck: { enabled: false, pollIntervalMs: 10_000, maxPolls: 30 },
} as const;

export const SecretKeyRef = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(SINK_NAME, 'must be a Secret name (DNS-1123 subdomain)')
      .describe('Name of a Secret in the same namespace.'),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret data key')
      .describe('Key within the Secret.'),
  })
  .describe('A key of a Kubernetes Secret; the forwarder reads it from the mounted Secret volume.');
export type SecretKeyRef = z.infer<typeof SecretKeyRef>;

const endpoint = (what: string) =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .max(2048)
    .describe(what);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** Headers the forwarder sets itself; a custom header may not replace them. */
export const RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'host',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-splunk-request-channel',
] as const;

export const SplunkHecSink = z
  .object({
    endpoint: endpoint(
      'HEC base URL, e.g. https://splunk.example.com:8088; /services/collector/event is appended.',
    ),
    token: SecretKeyRef.describe(
      'Secret key holding the HEC token (sent as `Authorization: Splunk <token>`).',
    ),
    index: z
      .string()
      .min(1)
      .max(80)
      .optional()
      .describe('Index for every event; unset uses the token’s default index.'),
    source: z.string().min(1).max(256).default('ledgerhub').describe('HEC `source` of every event.'),
    sourcetype: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'HEC `sourcetype`; default `caracal:audit`, `ledgerhub:ecs` or `ocsf:authorization` by format.',
      ),
    host: z.string().min(1).max(256).default('ledgerhub').describe('HEC `host` of every event.'),
    gzip: z.boolean().default(false).describe('Compress request bodies with gzip.'),
    indexerAck: z
      .object({
        enabled: z
          .boolean()
          .default(SINK_DEFAULTS.indexerAck.enabled)
          .describe(
            'Wait for indexer acknowledgement before a batch counts as delivered (token needs useACK).',
          ),
        pollIntervalMs: z
          .int()
          .min(100)
          .max(600_000)
          .default(SINK_DEFAULTS.indexerAck.pollIntervalMs)
          .describe('How often pending acks are queried (Splunk recommends 10 s).'),
        maxPolls: z
          .int()
          .min(1)
          .max(1000)
          .default(SINK_DEFAULTS.indexerAck.maxPolls)
          .describe('Queries before an unacknowledged batch is sent again.'),
      })
      .default(SINK_DEFAULTS.indexerAck)
      .describe('Indexer acknowledgement over a channel.'),
    healthCheck: z
      .boolean()
      .default(true)
      .describe('Query /services/collector/health at start and report the result in sink health.'),
  })
  .describe('Splunk HTTP Event Collector destination.');

export const ElasticsearchSink = z
  .object({
    endpoint: endpoint('Elasticsearch base URL, e.g. https://es.example.com:9200; /_bulk is appended.'),
    index: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^A-Z\\/*?"<>| ,#:]+$/, 'must be a valid index name')
      .optional()
      .describe('Index to write to (one of index or dataStream).'),
    dataStream: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^A-Z\\/*?"<>| ,#:]+$/, 'must be a valid data stream name')
      .optional()
      .describe('Data stream to write to (needs a matching index template).'),
    apiKey: SecretKeyRef.optional().describe(
      'Secret key holding the API key: the base64 `encoded` form, or `id:api_key`.',
    ),
    username: z.string().min(1).max(1024).optional().describe('User for basic authentication.'),
    password: SecretKeyRef.optional().describe('Secret key holding the basic-authentication password.'),
    pipeline: z.string().min(1).max(255).optional().describe('Ingest pipeline for every document.'),
  })
  .describe('Elasticsearch _bulk destination. Documents are created with _id = event id (idempotent).');

export const WebhookSink = z
  .object({
    endpoint: endpoint('URL batches are POSTed to. Redirects are never followed.'),
    signingSecret: SecretKeyRef.describe(
      'Secret key holding the Standard Webhooks secret (`whsec_` + base64 of 24–64 bytes).',
    ),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'must be an HTTP header name'),
        z.string().max(4096).describe('Header value.'),
      )
      .default({})
      .describe('Extra headers on every request (may not replace content-type or the webhook-* headers).'),
    secretHeaders: z
      .record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), SecretKeyRef)
      .default({})
      .describe('Extra headers whose values come from Secrets (e.g. an Authorization token).'),
  })
  .describe('Standard Webhooks destination: one signed JSON POST per batch.');

export const SinkTls = z
  .object({
    insecureSkipVerify: z
      .boolean()
      .default(false)
      .describe('Accept any server certificate. For tests only; never in production.'),
    ca: SecretKeyRef.optional().describe('PEM CA bundle to verify the server with (default: system CAs).'),
    clientCert: SecretKeyRef.optional().describe('PEM client certificate for mutual TLS.'),
    clientKey: SecretKeyRef.optional().describe('PEM client key for mutual TLS.'),
    serverName: z.string().min(1).max(253).optional().describe('SNI / verified host name override.'),
  })
  .describe('TLS settings for https endpoints.');

export const SinkBatch = z
  .object({
    events: z
      .int()
      .min(1)
      .max(10_000)
      .default(SINK_DEFAULTS.batch.events)
      .describe('Most events per batch (one BullMQ job, normally one request).'),
    bytes: z
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(SINK_DEFAULTS.batch.bytes)
      .describe('Most request body bytes; a larger batch is sent as several requests.'),
    waitMs: z
      .int()
      .min(0)
      .max(60_000)
      .default(SINK_DEFAULTS.batch.waitMs)
      .describe('Longest an event waits for its batch to fill while every delivery slot is busy.'),
  })
  .describe('Batching bounds.');

export const SinkRetry = z
  .object({
    initialMs: z
      .int()
      .min(1)
      .max(600_000)
      .default(SINK_DEFAULTS.retry.initialMs)
      .describe('First back-off; doubled per attempt with full jitter. Retry-After wins when sent.'),
    maxMs: z.int().min(1).max(86_400_000).default(SINK_DEFAULTS.retry.maxMs).describe('Back-off ceiling.'),
    maxAttempts: z
      .int()
      .min(0)
      .max(1_000_000)
      .default(SINK_DEFAULTS.retry.maxAttempts)
      .describe('Attempts before a batch failing with transient errors is dead-lettered; 0 retries forever.'),
  })
  .describe('Retries of transient failures (network errors, 408, 429, 5xx).');

export const SinkBreaker = z
  .object({
    failureThreshold: z
      .int()
      .min(1)
      .max(1000)
      .default(SINK_DEFAULTS.breaker.failureThreshold)
      .describe('Consecutive failed attempts that pause the sink.'),
    probeIntervalMs: z
      .int()
      .min(100)
      .max(600_000)
      .default(SINK_DEFAULTS.breaker.probeIntervalMs)
      .describe('First wait before a paused sink is probed with one request; doubles per failed probe.'),
    maxProbeIntervalMs: z
      .int()
      .min(100)
      .max(3_600_000)
      .default(SINK_DEFAULTS.breaker.maxProbeIntervalMs)
      .describe('Longest wait between probes.'),
  })
  .describe('Circuit breaker: a sink that keeps failing is paused and probed instead of retried job by job.');

export const SinkRateLimit = z
  .object({
    requests: z
      .int()
      .min(1)
      .max(1_000_000)
      .describe('Batches (requests) allowed per period, across replicas.'),
    periodMs: z.int().min(1).max(3_600_000).default(1000).describe('Length of the period.'),
  })
  .describe('Rate limit for the sink.');

export const AuditSinkSpec = z
  .object({
    type: z.enum(SINK_TYPES).describe('The kind of destination; the block of the same name configures it.'),
    splunkHec: SplunkHecSink.optional(),
    elasticsearch: ElasticsearchSink.optional(),
    webhook: WebhookSink.optional(),
    format: z
      .enum(SINK_FORMATS)
      .optional()
      .describe(
        'Event format: caracal (as stored), ecs or ocsf (Authorization Activity 6003). Default: ecs for elasticsearch, caracal otherwise.',
      ),
    tls: SinkTls.default(SINK_DEFAULTS.tls),
    batch: SinkBatch.default(SINK_DEFAULTS.batch),
    retry: SinkRetry.default(SINK_DEFAULTS.retry),
    breaker: SinkBreaker.default(SINK_DEFAULTS.breaker),
    rateLimit: SinkRateLimit.optional(),
    concurrency: z
      .int()
      .min(1)
      .max(64)
      .default(SINK_DEFAULTS.concurrency)
      .describe('Batches in flight at once per forwarder replica.'),
    timeoutMs: z
      .int()
      .min(100)
      .max(600_000)
      .default(SINK_DEFAULTS.timeoutMs)
      .describe('Timeout of one HTTP request.'),
    backfill: z
      .boolean()
      .default(true)
      .describe(
        'A new sink first receives the events committed before it was added; false starts at the head.',
      ),
  })
  .superRefine((spec, ctx) => {
    if (spec[spec.type] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [spec.type],
        message: `type is ${spec.type}, so the ${spec.type} block is required`,
      });
    }
    for (const other of SINK_TYPES) {
      if (other !== spec.type && spec[other] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [other], message: `only the ${spec.type} block may be set` });
      }
    }
    const es = spec.elasticsearch;
    if (es) {
      if ((es.index === undefined) === (es.dataStream === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['elasticsearch', 'index'],
          message: 'exactly one of index or dataStream is required',
        });
      }
      if ((es.apiKey === undefined) === (es.username === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['elasticsearch', 'apiKey'],
          message: 'exactly one of apiKey or username (with password) is required',
        });
      }
      if ((es.username === undefined) !== (es.password === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['elasticsearch', 'password'],
          message: 'username and password go together',
        });
      }
    }
    const hook = spec.webhook;
    if (hook) {
      for (const name of [...Object.keys(hook.headers), ...Object.keys(hook.secretHeaders)]) {
        if ((RESERVED_HEADERS as readonly string[]).includes(name.toLowerCase())) {
          ctx.addIssue({
            code: 'custom',
            path: ['webhook', 'headers', name],
            message: `${name} is set by the forwarder and cannot be overridden`,
          });
        }
      }
    }
    if ((spec.tls.clientCert === undefined) !== (spec.tls.clientKey === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls', 'clientCert'],
        message: 'clientCert and clientKey go together',
      });
    }
    if (spec.retry.maxMs < spec.retry.initialMs) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'maxMs'], message: 'must be at least initialMs' });
    }
    if (spec.breaker.maxProbeIntervalMs < spec.breaker.probeIntervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['breaker', 'maxProbeIntervalMs'],
        message: 'must be at least probeIntervalMs',
      });
    }
  })
  .describe('One SIEM destination (AuditSink.spec).');
export type AuditSinkSpec = z.infer<typeof AuditSinkSpec>;
export type AuditSinkSpecInput = z.input<typeof AuditSinkSpec>;

const routeValues = (what: string, max: number) =>
  z.array(z.string().min(1).max(max)).max(256).default([]).describe(what);

export const SinkRoute = z
  .object({
    eventTypes: routeValues(
      'Event types to forward; empty forwards every type. A trailing * matches a prefix (step_up_*).',
      128,
    ),
    decisions: routeValues('Decisions to forward (allow, deny, ...); empty forwards every decision.', 32),
    zones: routeValues('Zones to forward; empty forwards every zone.', 255),
    redactKeys: routeValues(
      'Keys whose values are replaced by "[redacted]" at any depth of metadata, diagnostics and determining policies (case-insensitive), besides Caracal’s sensitive keys (password, token, session_id, ...), which are always redacted.',
      128,
    ),
  })
  .describe('Which committed events a sink receives, and what is redacted on the way.');
export type SinkRoute = z.infer<typeof SinkRoute>;

/** What an AuditPolicy.spec.sinks[] entry holds: a reference to an AuditSink plus the route to it. */
export const PolicySinkEntry = z
  .object({
    sinkRef: z.object({ name: SinkName }).describe('The AuditSink (same namespace) this policy forwards to.'),
    route: SinkRoute.default({ eventTypes: [], decisions: [], zones: [], redactKeys: [] }),
  })
  .describe('A sink of this ledger and the events routed to it.');
export type PolicySinkEntry = z.infer<typeof PolicySinkEntry>;

/** The format a sink uses once its per-type default is applied. */
export function sinkFormat(spec: Pick<AuditSinkSpec, 'type' | 'format'>): SinkFormat {
  return spec.format ?? (spec.type === 'elasticsearch' ? 'ecs' : 'caracal');
}
