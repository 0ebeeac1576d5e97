// Typed configuration of the maintenance roles: retention, export, the integrity sweeper and the
// verifiers. Composed from the shared groups in roles.ts plus the checkpoint key and each job's bounds.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseCheckpointPrivateKey, parseCheckpointPublicKey } from '../checkpoint-key.ts';
import { customKey, enumKey, intKey, type Keys, stringKey } from './keys.ts';
import {
  connectionKeys,
  retentionCeilingDays,
  runtimeKeys,
  streamKeys,
  verifyKeys,
  workerKeys,
} from './roles.ts';

export const checkpointKeys = {
  checkpointKey: customKey<KeyObject | null>(
    'LEDGERHUB_CHECKPOINT_KEY',
    'an Ed25519 private key: PKCS#8 PEM, or the 32-byte seed as hex or base64',
    parseCheckpointPrivateKey,
    {
      default: null,
      defaultDoc: '(unset: no checkpoints, tombstones or manifests can be signed)',
      doc: 'Signs checkpoints, retention tombstones and export manifests (Ed25519, separate from AUDIT_HMAC_KEY). `_FILE` supported.',
      secret: true,
    },
  ),
  checkpointPublicKey: customKey<KeyObject | null>(
    'LEDGERHUB_CHECKPOINT_PUBLIC_KEY',
    'an Ed25519 public key: SPKI PEM, or the 32 raw bytes as hex or base64',
    parseCheckpointPublicKey,
    {
      default: null,
      defaultDoc: '(unset: derived from LEDGERHUB_CHECKPOINT_KEY when that is set)',
      doc: 'Verifies checkpoints, tombstones and manifests; all a verifier needs. Not secret, but read like one so `_FILE` works.',
      secret: true,
    },
  ),
} satisfies Keys;

const systemZone = stringKey(
  'LEDGERHUB_SYSTEM_ZONE',
  {
    default: 'ledgerhub-system',
    doc: 'Zone of the events the ledger writes about itself (retention and export runs).',
  },
  /^[\w.:-]{1,255}$/,
);

export const retentionKeys = {
  ...connectionKeys,
  ...streamKeys,
  ...runtimeKeys,
  ...checkpointKeys,
  systemZone,
  retentionCeilingDays,
  partitionAheadDays: workerKeys.partitionAheadDays,
  pruneBatch: intKey('LEDGERHUB_RETENTION_PRUNE_BATCH', 1, 1_000_000, {
    default: 50_000,
    doc: 'Id-registry rows removed per statement after a partition is dropped.',
  }),
  retentionIntervalSecs: intKey('LEDGERHUB_RETENTION_INTERVAL_SECS', 60, 7 * 86_400, {
    default: 21_600,
    doc: 'How often the local stack (`ledgerhub dev`) runs retention; in Kubernetes a CronJob does.',
  }),
} satisfies Keys;

export const exportKeys = {
  ...connectionKeys,
  ...streamKeys,
  ...runtimeKeys,
  ...checkpointKeys,
  systemZone,
  s3Endpoint: stringKey(
    'AUDIT_EXPORT_S3_ENDPOINT',
    {
      default: '',
      defaultDoc: '(unset: AWS, virtual-hosted style)',
      doc: 'S3-compatible endpoint URL; path-style addressing when set (as in Caracal).',
    },
    /^$|^https?:\/\/[^\s]+$/,
  ),
  s3Bucket: stringKey(
    'AUDIT_EXPORT_S3_BUCKET',
    { default: '', defaultDoc: '(unset: no S3 export)', doc: 'Bucket the hourly export objects go to.' },
    /^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  ),
  s3Region: stringKey(
    'AUDIT_EXPORT_S3_REGION',
    { default: 'us-east-1', doc: 'Region used in the SigV4 signature.' },
    /^[a-z0-9-]{1,64}$/,
  ),
  s3AccessKeyId: stringKey('AWS_ACCESS_KEY_ID', { default: '', doc: 'S3 access key id.' }),
  s3SecretAccessKey: stringKey('AWS_SECRET_ACCESS_KEY', {
    default: '',
    doc: 'S3 secret access key. `_FILE` supported.',
    secret: true,
  }),
  s3SessionToken: stringKey('AWS_SESSION_TOKEN', {
    default: '',
    doc: 'Optional STS session token. `_FILE` supported.',
    secret: true,
  }),
  exportDir: stringKey('AUDIT_EXPORT_DIR', {
    default: '',
    defaultDoc: '(unset: no filesystem export)',
    doc: 'A directory (a mounted volume) the hourly export objects go to.',
  }),
  exportPrefix: stringKey(
    'AUDIT_EXPORT_PREFIX',
    { default: 'audit/', doc: 'Key prefix of export objects (`<prefix>YYYY/MM/DD/YYYY-MM-DDTHH.<ext>`).' },
    /^$|^[\w.-]+(\/[\w.-]+)*\/$/,
  ),
  exportFormats: customKey<ExportFormatName[]>(
    'AUDIT_EXPORT_FORMATS',
    'a comma list of ndjson, parquet',
    parseFormats,
    { default: ['ndjson', 'parquet'], defaultDoc: 'ndjson,parquet', doc: 'Formats written for every hour.' },
  ),
  exportGraceSecs: intKey('AUDIT_EXPORT_GRACE_SECS', 0, 3600, {
    default: 60,
    doc: 'An hour is exported once it ended this long ago (commits that began before the hour ended land in the next object anyway).',
  }),
  exportMaxHours: intKey('AUDIT_EXPORT_MAX_HOURS', 1, 100_000, {
    default: 168,
    doc: 'Hours exported per run at most (catch-up continues on the next run).',
  }),
  exportMaxObjectEvents: intKey('AUDIT_EXPORT_MAX_OBJECT_EVENTS', 1, 5_000_000, {
    default: 20_000,
    doc: 'Events per object at most; a busier hour is split into numbered parts. Bounds memory (see AUDIT_EXPORT_THREAD_HEAP_MB): the default leaves room for events up to about 2.5 KB; lower it for larger ones.',
  }),
  exportThreadHeapMb: intKey('AUDIT_EXPORT_THREAD_HEAP_MB', 64, 8192, {
    default: 384,
    doc: "Heap of each of the export's two encoding threads. A unit needs about 7 times its COPY text at its peak: 384 MB held 40,000 events of 1.5 KB and not 60,000. Raise it (and the Job's memory limit) when a plan saved with larger units must be resumed.",
  }),
  exportGzipLevel: intKey('AUDIT_EXPORT_GZIP_LEVEL', 1, 9, {
    default: 4,
    doc: 'gzip level of NDJSON objects.',
  }),
} satisfies Keys;

export type ExportFormatName = 'ndjson' | 'parquet';

function parseFormats(raw: string): ExportFormatName[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0 || names.some((n) => n !== 'ndjson' && n !== 'parquet')) {
    throw new Error('each format must be ndjson or parquet');
  }
  return [...new Set(names)] as ExportFormatName[];
}

export const integrityKeys = {
  ...connectionKeys,
  ...runtimeKeys,
  ...checkpointKeys,
  hmacKey: streamKeys.hmacKey,
  port: intKey('PORT', 0, 65535, { default: 9091, doc: 'HTTP port for /health, /ready and /metrics.' }),
  tamperRollingHours: intKey('AUDIT_TAMPER_ROLLING_HOURS', 1, 24 * 365, {
    default: 4,
    doc: 'Window (by ingested_at) of the hourly rolling tamper sweep, as in Caracal.',
  }),
  sweepIntervalSecs: intKey('LEDGERHUB_SWEEP_INTERVAL_SECS', 10, 86_400, {
    default: 3600,
    doc: 'How often the rolling sweep runs (a full sweep runs at start).',
  }),
  checkpointIntervalSecs: intKey('LEDGERHUB_CHECKPOINT_INTERVAL_SECS', 5, 86_400, {
    default: 300,
    doc: 'How often every changed zone head is signed into a checkpoint.',
  }),
  verifyConcurrency: intKey('LEDGERHUB_VERIFY_CONCURRENCY', 1, 16, {
    default: 2,
    doc: 'Zones verified at once, each on its own connection (`ledgerhub verify`: and its own thread).',
  }),
  onFault: enumKey('LEDGERHUB_SWEEP_LOG_FAULTS', ['each', 'summary'] as const, {
    default: 'each',
    doc: 'Log every fault a sweep finds, or only the counts.',
  }),
} satisfies Keys;

/** `ledgerhub verify`: the chain keys plus what checkpoints, tombstones and concurrency need. */
export const ledgerVerifyKeys = {
  ...verifyKeys,
  ...checkpointKeys,
  verifyConcurrency: integrityKeys.verifyConcurrency,
} satisfies Keys;

/** `ledgerhub verify-export`: offline; keys to check signatures and (optionally) HMACs, S3 to read from. */
export const verifyExportKeys = {
  ...runtimeKeys,
  ...checkpointKeys,
  hmacKey: streamKeys.hmacKey,
  s3Endpoint: exportKeys.s3Endpoint,
  s3Region: exportKeys.s3Region,
  s3AccessKeyId: exportKeys.s3AccessKeyId,
  s3SecretAccessKey: exportKeys.s3SecretAccessKey,
  s3SessionToken: exportKeys.s3SessionToken,
} satisfies Keys;

/** The public keys a configuration trusts: the configured one and the private key's own half. */
export function trustedPublicKeys(c: {
  checkpointKey: KeyObject | null;
  checkpointPublicKey: KeyObject | null;
}): KeyObject[] {
  const out: KeyObject[] = [];
  if (c.checkpointPublicKey) out.push(c.checkpointPublicKey);
  if (c.checkpointKey) out.push(createPublicKey(c.checkpointKey));
  return out;
}
