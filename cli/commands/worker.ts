// `ledgerhub worker`: the ingestion worker (configuration from the environment).
import { loadConfig } from '../../ledger/config/keys.ts';
import { workerKeys } from '../../ledger/config/roles.ts';
import { startWorker } from '../../worker/main.ts';
import { parseOptions } from '../exit.ts';
import { runUntilSignalled } from '../role.ts';

export const summary = 'consume the audit stream into the ledger (Redis -> Postgres)';

const help = `usage: ledgerhub worker

Runs the ingestion worker until SIGTERM/SIGINT. Configured by environment variables
(AUDIT_*, REDIS_URL, DATABASE_URL, ...; see docs/configuration.md).`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { help: { type: 'boolean', short: 'h' } }, help);
  if (values.help) {
    console.log(help);
    return 0;
  }
  const handle = await startWorker(loadConfig('worker', workerKeys));
  return runUntilSignalled(handle);
}
