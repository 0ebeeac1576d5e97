// AuditPolicy (ledgerhub.io/v1alpha1): one ledger and how it is run. The zod schema is the single source
// of the CRD (crds/auditpolicies.yaml) and of the typed spec the reconciler reads.
import { z } from 'zod';
import { PolicySinkEntry, SecretKeyRef } from '../../ledger/sinks/spec.ts';
import { Conditions } from './condition.ts';
import { CRON_RULE, isCronSchedule } from './cron.ts';

const cel = (rule: string, message: string) => ({ rule, message });

const schedule = (fallback: string, what: string) =>
  z
    .string()
    .max(256)
    .refine(isCronSchedule, CRON_RULE.message)
    .default(fallback)
    .meta({ 'x-kubernetes-validations': [CRON_RULE] })
    .describe(`${what} (cron, UTC).`);

const QUANTITY = /^([0-9]+(\.[0-9]+)?|\.[0-9]+)([KMGTPE]i|[mkMGTPE])?$/;

/** A Kubernetes resource quantity: an integer or a string such as 500m or 256Mi. */
export const Quantity = z
  .union([z.int().min(0), z.string().regex(QUANTITY, 'must be a quantity such as 500m or 256Mi')])
  .meta({ 'x-kubernetes-int-or-string': true })
  .describe('A quantity: an integer or a string such as 500m or 256Mi.');

const ResourceList = z
  .object({ cpu: Quantity.optional(), memory: Quantity.optional() })
  .describe('CPU and memory.');

export const Resources = z
  .object({ requests: ResourceList.optional(), limits: ResourceList.optional() })
  .describe('Requests and limits of the containers; unset values use the operator’s defaults per role.');
export type Resources = z.infer<typeof Resources>;

const streamName = (fallback: string, what: string) =>
  z
    .string()
    .regex(/^[\w.:-]{1,200}$/, 'must be 1-200 letters, digits, _ . : or -')
    .default(fallback)
    .describe(what);

export const LedgerSpec = z
  .object({
    redisUrl: SecretKeyRef.describe('Secret key holding the Redis URL (redis:// or rediss://).'),
    postgresUrl: SecretKeyRef.describe(
      'Secret key holding the Postgres URL of the ledger database; the login needs DDL rights for migrations.',
    ),
    leastPrivilegeRoles: z
      .boolean()
      .default(true)
      .describe(
        'Each role assumes its own Postgres role (ledgerhub_ingest, _reader, _forwarder, _maintainer); the login must be a member of them.',
      ),
    stream: streamName('caracal.audit.events', 'The Redis stream producers XADD to.'),
    dlqStream: streamName('caracal.audit.events.dlq', 'The dead-letter stream.'),
    hmacKey: SecretKeyRef.optional().describe(
      'Secret key holding the stream HMAC key (hex, at least 32 bytes). Required in production mode.',
    ),
  })
  .describe('Where the ledger lives: Redis (the stream) and Postgres (the tables).');

export const IngestionSpec = z
  .object({
    replicas: z.int().min(0).max(64).default(1).describe('Ingestion workers.'),
    batchSize: z.int().min(1).max(10_000).default(1000).describe('Events read and stored per transaction.'),
    resources: Resources.optional(),
  })
  .describe('The ingestion workers (`ledgerhub worker`).');

export const ForwarderSpec = z
  .object({
    replicas: z.int().min(0).max(16).default(1).describe('Forwarder replicas.'),
    resources: Resources.optional(),
  })
  .describe('The forwarder (`ledgerhub forwarder`) that delivers to the sinks.');

export const ApiSpec = z
  .object({
    enabled: z.boolean().default(true).describe('Run the admin API and console, and its Service.'),
    replicas: z.int().min(0).max(16).default(1).describe('API replicas.'),
    tokens: SecretKeyRef.optional().describe(
      'Secret key holding LEDGERHUB_API_TOKENS (JSON list of token hashes, see `ledgerhub token new`).',
    ),
    resources: Resources.optional(),
  })
  .describe('The admin API, live tail and console (`ledgerhub api`).');

export const RetentionSpec = z
  .object({
    days: z
      .int()
      .max(36_500)
      .refine((d) => d >= 1, 'retention must be at least 1 day')
      .default(365)
      .describe('Days events are kept; whole daily partitions older than this are dropped.'),
    schedule: schedule('17 3 * * *', 'When retention runs'),
  })
  .meta({ 'x-kubernetes-validations': [cel('self.days >= 1', 'retention must be at least 1 day')] })
  .describe('Retention: a CronJob running `ledgerhub retention`.');

export const EXPORT_FORMATS = ['ndjson', 'parquet'] as const;

export const S3Destination = z
  .object({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .describe('Bucket the hourly export objects go to.'),
    endpoint: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL')
      .optional()
      .describe('S3-compatible endpoint (path-style); unset means AWS.'),
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/)
      .default('us-east-1')
      .describe('Region for request signing.'),
    accessKeyId: SecretKeyRef.describe('Secret key holding the access key id.'),
    secretAccessKey: SecretKeyRef.describe('Secret key holding the secret access key.'),
  })
  .describe('An S3-compatible bucket.');

export const VolumeDestination = z
  .object({
    claimName: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .max(253)
      .describe('PersistentVolumeClaim (same namespace) mounted at /export.'),
  })
  .describe('A volume (PersistentVolumeClaim).');

export const ExportSpec = z
  .object({
    schedule: schedule('7 * * * *', 'When export runs'),
    destination: z
      .object({ s3: S3Destination.optional(), volume: VolumeDestination.optional() })
      .meta({
        'x-kubernetes-validations': [
          cel('has(self.s3) != has(self.volume)', 'exactly one of s3 or volume must be set'),
        ],
      })
      .refine(
        (d) => (d.s3 === undefined) !== (d.volume === undefined),
        'exactly one of s3 or volume must be set',
      )
      .describe('Where exported hours go.'),
    formats: z
      .array(z.enum(EXPORT_FORMATS))
      .min(1)
      .max(2)
      .default(['ndjson', 'parquet'])
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('Formats written for every hour: NDJSON.gz and OCSF Parquet.'),
    prefix: z
      .string()
      .regex(/^$|^[\w.-]+(\/[\w.-]+)*\/$/, 'must be empty or end with /')
      .default('audit/')
      .describe('Key prefix of export objects.'),
  })
  .describe('Hourly export with signed manifests: a CronJob running `ledgerhub export`.');

export const IntegritySpec = z
  .object({
    verifySchedule: schedule('37 4 * * *', 'When `ledgerhub verify` checks every chain'),
    checkpointKey: SecretKeyRef.optional().describe(
      'Secret key holding the Ed25519 key that signs checkpoints, tombstones and export manifests.',
    ),
    checkpointPublicKey: SecretKeyRef.optional().describe(
      'Secret key holding the public key verification trusts (default: derived from checkpointKey).',
    ),
    sweeper: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Run `ledgerhub sweep`: rolling tamper sweeps and signed checkpoints.'),
        resources: Resources.optional(),
      })
      .prefault({})
      .describe('The integrity sweeper (a Deployment).'),
  })
  .describe('Integrity: scheduled verification, checkpoint signing and the tamper sweeper.');

export const AuditPolicySpec = z
  .object({
    mode: z
      .enum(['production', 'development'])
      .default('production')
      .describe('Production requires ledger.hmacKey and closes /metrics without a bearer.'),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
      .default('info')
      .describe('Log level of every role.'),
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('Container image of the workloads; default: the operator’s LEDGERHUB_WORKLOAD_IMAGE.'),
    ledger: LedgerSpec,
    ingestion: IngestionSpec.prefault({}),
    forwarder: ForwarderSpec.prefault({}),
    api: ApiSpec.prefault({}),
    retention: RetentionSpec.prefault({}),
    export: ExportSpec.optional(),
    integrity: IntegritySpec.prefault({}),
    metricsBearer: SecretKeyRef.optional().describe('Secret key holding the bearer token /metrics requires.'),
    sinks: z
      .array(PolicySinkEntry)
      .max(64)
      .default([])
      .meta({
        'x-kubernetes-validations': [
          cel(
            'self.all(a, self.exists_one(b, b.sinkRef.name == a.sinkRef.name))',
            'each sink may be listed once',
          ),
        ],
      })
      .describe('The sinks this ledger forwards to, each with its route.'),
  })
  .meta({
    'x-kubernetes-validations': [
      cel("self.mode != 'production' || has(self.ledger.hmacKey)", 'production mode needs ledger.hmacKey'),
    ],
  })
  .refine((s) => s.mode !== 'production' || s.ledger.hmacKey !== undefined, {
    message: 'production mode needs ledger.hmacKey',
    path: ['ledger', 'hmacKey'],
  })
  .refine((s) => new Set(s.sinks.map((e) => e.sinkRef.name)).size === s.sinks.length, {
    message: 'each sink may be listed once',
    path: ['sinks'],
  })
  .describe('One ledger and how it is run.');
export type AuditPolicySpec = z.infer<typeof AuditPolicySpec>;
export type AuditPolicySpecInput = z.input<typeof AuditPolicySpec>;

const JobResult = z
  .object({
    job: z.string().describe('The Job of the latest finished run.'),
    startTime: z.string().optional().meta({ format: 'date-time' }),
    completionTime: z.string().optional().meta({ format: 'date-time' }),
    succeeded: z.boolean(),
  })
  .describe('The latest finished run of a scheduled job.');
export type JobResult = z.infer<typeof JobResult>;

export const AuditPolicyStatus = z
  .object({
    observedGeneration: z.int().min(0).optional(),
    conditions: Conditions.optional(),
    workloads: z
      .string()
      .optional()
      .describe('Available Deployments out of those that should run, e.g. 4/4.'),
    sinks: z.string().optional().describe('Sinks ready out of those listed, e.g. 2/3.'),
    ingestion: z
      .object({
        lag: z.int().min(0).describe('Stream entries pending or not yet delivered to the workers.'),
        deadLettered: z.int().min(0).describe('Entries in the dead-letter stream.'),
      })
      .optional()
      .describe('From the last probe of Redis.'),
    lastRetention: JobResult.optional(),
    lastExport: JobResult.optional(),
    lastVerification: JobResult.optional(),
  })
  .describe('What the operator observed.');
export type AuditPolicyStatus = z.infer<typeof AuditPolicyStatus>;
