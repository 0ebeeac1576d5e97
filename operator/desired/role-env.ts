// A policy's typed configuration of every role it runs, rendered with the roles' own key definitions
// (renderEnv), so what the operator writes is exactly what `ledgerhub <role>` loads. Values shared by
// every role that reads a key go to the policy's ConfigMap; the rest (PORT, LEDGERHUB_DB_ROLE) become
// per-container env. Secret keys never appear here: they are mounted (see secret-inputs.ts).
import { forwarderKeys } from '../../ledger/config/forwarder.ts';
import { type ConfigOf, type Keys, renderEnv } from '../../ledger/config/keys.ts';
import {
  exportKeys,
  integrityKeys,
  ledgerVerifyKeys,
  retentionKeys,
} from '../../ledger/config/maintenance.ts';
import { apiKeys, migrateKeys, workerKeys } from '../../ledger/config/roles.ts';
import { DEFAULT_SECRETS_DIR } from '../../ledger/sinks/secret-source.ts';
import type { AuditPolicySpec } from '../api/audit-policy.ts';

export const ROLE_KEYS = {
  worker: workerKeys,
  forwarder: forwarderKeys,
  api: apiKeys,
  sweeper: integrityKeys,
  retention: retentionKeys,
  export: exportKeys,
  verify: ledgerVerifyKeys,
  migrate: migrateKeys,
} as const satisfies Record<string, Keys>;
export type Role = keyof typeof ROLE_KEYS;

/** The CLI arguments of each role's container (the image's entrypoint is `ledgerhub`). */
export const ROLE_ARGS: Record<Role, string[]> = {
  worker: ['worker'],
  forwarder: ['forwarder'],
  api: ['api'],
  sweeper: ['sweep'],
  retention: ['retention'],
  export: ['export'],
  verify: ['verify'],
  migrate: ['migrate'],
};

/** Ports of the roles that serve HTTP (probes, metrics; the API itself). */
export const ROLE_PORTS = { worker: 9090, forwarder: 9090, api: 8080, sweeper: 9091 } as const;

/** Postgres roles of 0001_ledger.sql each role assumes (LEDGERHUB_DB_ROLE) with leastPrivilegeRoles. */
const DB_ROLES: Record<Role, string> = {
  worker: 'ledgerhub_ingest',
  forwarder: 'ledgerhub_forwarder',
  api: 'ledgerhub_reader',
  sweeper: 'ledgerhub_maintainer',
  retention: 'ledgerhub_maintainer',
  export: 'ledgerhub_maintainer',
  verify: 'ledgerhub_reader',
  migrate: '',
};

export const SINKS_DIR = '/etc/ledgerhub/sinks';
export const SINKS_FILE = 'sinks.json';
export const EXPORT_DIR = '/export';
export const SECRETS_DIR = DEFAULT_SECRETS_DIR;

type RoleConfig<R extends Role> = Partial<ConfigOf<(typeof ROLE_KEYS)[R]>>;
export type RoleConfigs = { [R in Role]: RoleConfig<R> };

/** The configuration of each role, from the policy spec (only what the spec decides; the rest defaults). */
export function roleConfigs(spec: AuditPolicySpec): RoleConfigs {
  const dbRole = (role: Role) => (spec.ledger.leastPrivilegeRoles ? DB_ROLES[role] : '');
  const common = { mode: spec.mode, logLevel: spec.logLevel };
  const streams = { stream: spec.ledger.stream, dlqStream: spec.ledger.dlqStream };
  const s3 = spec.export?.destination.s3;
  return {
    worker: {
      ...common,
      ...streams,
      dbRole: dbRole('worker'),
      port: ROLE_PORTS.worker,
      batchSize: spec.ingestion.batchSize,
    },
    forwarder: {
      ...common,
      dbRole: dbRole('forwarder'),
      port: ROLE_PORTS.forwarder,
      sinksFile: `${SINKS_DIR}/${SINKS_FILE}`,
      secretsDir: SECRETS_DIR,
    },
    api: {
      ...common,
      ...streams,
      dbRole: dbRole('api'),
      port: ROLE_PORTS.api,
      retentionCeilingDays: spec.retention.days,
    },
    sweeper: { ...common, dbRole: dbRole('sweeper'), port: ROLE_PORTS.sweeper },
    retention: {
      ...common,
      ...streams,
      dbRole: dbRole('retention'),
      retentionCeilingDays: spec.retention.days,
    },
    export: {
      ...common,
      ...streams,
      dbRole: dbRole('export'),
      ...(spec.export
        ? {
            exportFormats: spec.export.formats,
            exportPrefix: spec.export.prefix,
            ...(s3 ? { s3Bucket: s3.bucket, s3Region: s3.region, s3Endpoint: s3.endpoint ?? '' } : {}),
            ...(spec.export.destination.volume ? { exportDir: EXPORT_DIR } : {}),
          }
        : {}),
    },
    verify: { ...common, dbRole: dbRole('verify') },
    migrate: { ...common, dbRole: dbRole('migrate') },
  };
}

export interface PolicyEnv {
  /** The ConfigMap's data: keys every role that reads them gets with the same value. */
  shared: Record<string, string>;
  /** Per role, keys whose value differs between roles (container env). */
  own: Record<Role, Record<string, string>>;
  /** Per role, everything it was rendered with (what its checksum covers). */
  rendered: Record<Role, Record<string, string>>;
}

/** Renders every role's environment and splits it into the shared ConfigMap and per-role env. */
export function policyEnv(configs: RoleConfigs, roles: readonly Role[]): PolicyEnv {
  const rendered = Object.fromEntries(
    roles.map((role) => [role, renderEnv(ROLE_KEYS[role] as Keys, configs[role] as Record<string, unknown>)]),
  ) as Record<Role, Record<string, string>>;
  const reads = (role: Role, name: string) =>
    Object.values(ROLE_KEYS[role] as Keys).some((k) => k.env === name);
  const names = new Set(roles.flatMap((role) => Object.keys(rendered[role])));
  const shared: Record<string, string> = {};
  const own = Object.fromEntries(roles.map((role) => [role, {}])) as Record<Role, Record<string, string>>;
  for (const name of [...names].sort()) {
    const readers = roles.filter((role) => reads(role, name));
    const values = new Set(readers.map((role) => rendered[role][name]));
    const value = rendered[readers[0]!][name];
    if (values.size === 1 && value !== undefined) shared[name] = value;
    else
      for (const role of readers)
        if (rendered[role][name] !== undefined) own[role][name] = rendered[role][name]!;
  }
  return { shared, own, rendered };
}
