// `ledgerhub api`: the admin API, the live tail and the web console.
import { startApi } from '../../api/main.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { apiKeys } from '../../ledger/config/roles.ts';
import { parseOptions } from '../exit.ts';
import { runUntilSignalled } from '../role.ts';

export const summary = 'serve the admin API, the live tail and the web console';

const help = `usage: ledgerhub api

Serves /v1 (bearer tokens from LEDGERHUB_API_TOKENS), the console at /, /openapi.json, /health,
/ready and /metrics on PORT (default 8080) until SIGTERM/SIGINT. See docs/configuration.md.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { help: { type: 'boolean', short: 'h' } }, help);
  if (values.help) {
    console.log(help);
    return 0;
  }
  return runUntilSignalled(await startApi(loadConfig('api', apiKeys)));
}
