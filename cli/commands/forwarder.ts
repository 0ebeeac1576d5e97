// `ledgerhub forwarder`: the SIEM forwarder (configuration from the environment, sinks from a file).

import { startForwarder } from '../../forwarder/main.ts';
import { forwarderKeys } from '../../ledger/config/forwarder.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { parseOptions } from '../exit.ts';
import { runUntilSignalled } from '../role.ts';

export const summary = 'deliver committed events to Splunk HEC, Elasticsearch and webhooks';

const help = `usage: ledgerhub forwarder

Runs the forwarder until SIGTERM/SIGINT: one BullMQ queue and worker pool per sink, a dispatcher that
follows the committed ledger with one durable cursor per sink. Configured by environment variables
(LEDGERHUB_SINKS_FILE, LEDGERHUB_SECRETS_DIR, REDIS_URL, DATABASE_URL, ...; see docs/forwarder.md).
Exit codes: 0 stopped cleanly, 1 failed, 3 invalid configuration, 4 Redis or Postgres unreachable.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { help: { type: 'boolean', short: 'h' } }, help);
  if (values.help) {
    console.log(help);
    return 0;
  }
  const handle = await startForwarder(loadConfig('forwarder', forwarderKeys));
  return runUntilSignalled(handle);
}
