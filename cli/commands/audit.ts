// `ledgerhub audit tail`: recent events as a table (or NDJSON), then follows new ones live.
import { loadConfig } from '../../ledger/config/keys.ts';
import { apiClientKeys } from '../../ledger/config/roles.ts';
import type { AuditDetail } from '../../ledger/queries.ts';
import { apiClient } from '../api-client.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';
import { renderTable, tableRow } from '../table.ts';
import { resolveZone } from '../zone.ts';

export const summary = 'show recent audit events and follow new ones (tail)';

const help = `usage: ledgerhub audit tail [--zone Z] [--decision D] [--event-type T[,T...]] [--request-id R]
                            [--since T] [--until T] [--limit N] [--json] [--no-follow]

Prints the newest --limit (default 100) matching events, oldest first, as a table (occurred_at,
event_type, decision, evaluation_status, request_id, id) or, with --json, one JSON object per line;
then follows new events until Ctrl-C, unless --no-follow, --since or --until is given.
The zone comes from --zone, LEDGERHUB_ZONE, or is the only zone. Talks to LEDGERHUB_API_URL with
LEDGERHUB_TOKEN. Exit codes: 0 done, 1 API error, 2 bad usage, 4 API unreachable.`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'tail') {
    if (sub === '--help' || sub === '-h' || sub === undefined) {
      console.log(help);
      return sub === undefined ? ExitCode.usage : ExitCode.ok;
    }
    throw new UsageError(`unknown subcommand "audit ${sub}"\n\n${help}`);
  }
  const { values } = parseOptions(
    rest,
    {
      help: { type: 'boolean', short: 'h' },
      zone: { type: 'string' },
      decision: { type: 'string' },
      'event-type': { type: 'string' },
      'request-id': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string', default: '100' },
      json: { type: 'boolean' },
      'no-follow': { type: 'boolean' },
    },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const config = loadConfig('cli', apiClientKeys);
  const client = apiClient(config.apiUrl, config.token);
  const zone = await resolveZone(client, values.zone, config.zone);
  const q = new URLSearchParams();
  if (values.decision) q.set('decision', values.decision);
  if (values['event-type']) q.set('event_type', values['event-type']);
  if (values['request-id']) q.set('request_id', values['request-id']);
  if (values.since) q.set('since', values.since);
  if (values.until) q.set('until', values.until);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError('--limit must be an integer from 1 to 1000');

  const columns = ['occurred_at', 'event_type', 'decision', 'evaluation_status', 'request_id', 'id'] as const;
  const widths = [27, 24, 9, 24, 36, 36];
  const row = (e: AuditDetail) => columns.map((c) => e[c]);
  const page = await client.get<{ items: AuditDetail[] }>(
    `/v1/zones/${encodeURIComponent(zone)}/audit?${q.toString()}${q.size ? '&' : ''}limit=${limit}`,
  );
  const items = [...page.items].reverse();
  if (values.json) for (const e of items) console.log(JSON.stringify(e));
  else console.log(renderTable([...columns], items.map(row), { widths }));

  const follow = !values['no-follow'] && !values.since && !values.until;
  if (!follow) return ExitCode.ok;
  if (!values.json) console.error(`-- following ${zone} (Ctrl-C to stop)`);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  await client.events(
    `/v1/zones/${encodeURIComponent(zone)}/audit/stream?${q.toString()}`,
    (_id, data) => {
      const e = JSON.parse(data) as AuditDetail;
      console.log(values.json ? data : tableRow(row(e), widths));
    },
    abort.signal,
  );
  return ExitCode.ok;
}
