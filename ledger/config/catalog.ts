// Every role's configuration keys in one list: the source of docs/configuration.md and of what the
// operator may render into a role's ConfigMap.
import { forwarderKeys, sinksCliKeys } from './forwarder.ts';
import type { Keys } from './keys.ts';
import {
  exportKeys,
  integrityKeys,
  ledgerVerifyKeys,
  retentionKeys,
  verifyExportKeys,
} from './maintenance.ts';
import { operatorKeys } from './operator.ts';
import {
  apiClientKeys,
  apiKeys,
  connectionKeys,
  migrateKeys,
  runtimeKeys,
  streamKeys,
  workerKeys,
} from './roles.ts';

export interface RoleConfig {
  role: string;
  summary: string;
  keys: Keys;
}

export const ROLE_CONFIGS: RoleConfig[] = [
  { role: 'worker', summary: 'ingestion worker (`ledgerhub worker`)', keys: workerKeys },
  { role: 'forwarder', summary: 'SIEM forwarder (`ledgerhub forwarder`)', keys: forwarderKeys },
  { role: 'sinks', summary: 'sink health and dead letters (`ledgerhub sinks`)', keys: sinksCliKeys },
  { role: 'api', summary: 'admin API, live tail and console (`ledgerhub api`)', keys: apiKeys },
  {
    role: 'retention',
    summary: 'partitions ahead, drops by policy with tombstones (`ledgerhub retention`)',
    keys: retentionKeys,
  },
  { role: 'export', summary: 'hourly exports with signed manifests (`ledgerhub export`)', keys: exportKeys },
  {
    role: 'sweep',
    summary: 'integrity sweeps and signed checkpoints (`ledgerhub sweep`)',
    keys: integrityKeys,
  },
  {
    role: 'verify-export',
    summary: 'offline export verification (`ledgerhub verify-export`)',
    keys: verifyExportKeys,
  },
  { role: 'migrate', summary: 'schema migrations (`ledgerhub migrate`)', keys: migrateKeys },
  { role: 'verify', summary: 'chain verification (`ledgerhub verify`)', keys: ledgerVerifyKeys },
  { role: 'operator', summary: 'the Kubernetes operator (`ledgerhub operator`)', keys: operatorKeys },
  {
    role: 'cli',
    summary: 'CLI commands that call the API (`audit tail`, `explain`, `dlq`)',
    keys: apiClientKeys,
  },
  {
    role: 'emit',
    summary: 'sending events (`ledgerhub emit`)',
    keys: { ...connectionKeys, ...streamKeys, ...runtimeKeys },
  },
];
