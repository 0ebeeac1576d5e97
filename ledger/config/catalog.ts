// Every role's configuration keys in one list: the source of docs/configuration.md and of what the
// operator may render into a role's ConfigMap.
import type { Keys } from './keys.ts';
import {
  apiClientKeys,
  apiKeys,
  connectionKeys,
  migrateKeys,
  runtimeKeys,
  streamKeys,
  verifyKeys,
  workerKeys,
} from './roles.ts';

export interface RoleConfig {
  role: string;
  summary: string;
  keys: Keys;
}

export const ROLE_CONFIGS: RoleConfig[] = [
  { role: 'worker', summary: 'ingestion worker (`ledgerhub worker`)', keys: workerKeys },
  { role: 'api', summary: 'admin API, live tail and console (`ledgerhub api`)', keys: apiKeys },
  { role: 'migrate', summary: 'schema migrations (`ledgerhub migrate`)', keys: migrateKeys },
  { role: 'verify', summary: 'chain verification (`ledgerhub verify`)', keys: verifyKeys },
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
