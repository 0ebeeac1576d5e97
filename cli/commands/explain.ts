// `ledgerhub explain <request_id>`: why a request was decided as it was.
import { loadConfig } from '../../ledger/config/keys.ts';
import { apiClientKeys } from '../../ledger/config/roles.ts';
import { apiClient } from '../api-client.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';
import { type TraceWithIntegrity, traceMermaid, traceText } from '../explain-format.ts';
import { resolveZone } from '../zone.ts';

export const summary = 'explain a request: decision, denial reasons, timeline, gaps, integrity';

const help = `usage: ledgerhub explain <request_id> [--zone Z] [--json | --format text|mermaid]

Prints the request's decision trace: final decision, each denial with its determining policies,
diagnostics and metadata, the timeline of stages (authorization, approval, gateway result), the stages
that should exist and do not, and whether the events' chain links verify. --json prints the API's
trace as is; --format mermaid a sequence diagram. The zone is found from the request id if not given.
Exit codes: 0 explained, 1 request not found or API error, 2 bad usage, 4 API unreachable.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    {
      help: { type: 'boolean', short: 'h' },
      zone: { type: 'string' },
      json: { type: 'boolean' },
      format: { type: 'string', default: 'text' },
      flow: { type: 'boolean' },
    },
    help,
    true,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const requestId = positionals[0];
  if (!requestId || positionals.length > 1) throw new UsageError(`give one request id\n\n${help}`);
  const format = values.flow ? 'mermaid' : values.format;
  if (format !== 'text' && format !== 'mermaid') throw new UsageError('--format must be text or mermaid');
  const config = loadConfig('cli', apiClientKeys);
  const client = apiClient(config.apiUrl, config.token);
  const zone = await resolveZone(client, values.zone, '', requestId);
  const trace = await client.get<TraceWithIntegrity>(
    `/v1/zones/${encodeURIComponent(zone)}/audit/by-request/${encodeURIComponent(requestId)}/explain`,
  );
  if (values.json) console.log(JSON.stringify(trace, null, 2));
  else console.log(format === 'mermaid' ? traceMermaid(trace) : traceText(trace));
  return trace.integrity.status === 'failed' ? ExitCode.failed : ExitCode.ok;
}
