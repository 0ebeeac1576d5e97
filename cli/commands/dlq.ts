// `ledgerhub dlq ls | show <id> | replay`: the ingestion dead-letter stream, through the API.
import { loadConfig } from '../../ledger/config/keys.ts';
import { apiClientKeys } from '../../ledger/config/roles.ts';
import type { DlqEntry, DlqEntryDetail, ReplayResult } from '../../ledger/dlq-store.ts';
import { apiClient } from '../api-client.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';
import { renderTable } from '../table.ts';

export const summary = 'list, show and replay ingestion dead letters';

const help = `usage: ledgerhub dlq ls [--limit N] [--json]
       ledgerhub dlq show <id> [--json]
       ledgerhub dlq replay [--limit N] [--id ID]

ls      dead letters, oldest first (id, age, reason, replayable, event id, zone, event type)
show    one dead letter with its source event and every field
replay  re-queue replayable dead letters (transient_exceeded_max_deliveries:, pg_permanent_error:)
        onto the audit stream; needs a token with audit:admin
Exit codes: 0 done, 1 not found or API error, 2 bad usage, 4 API unreachable.`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseOptions(
    rest,
    {
      help: { type: 'boolean', short: 'h' },
      limit: { type: 'string', default: '100' },
      json: { type: 'boolean' },
      id: { type: 'string' },
    },
    help,
    true,
  );
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    console.log(help);
    return sub === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const config = loadConfig('cli', apiClientKeys);
  const client = apiClient(config.apiUrl, config.token);
  if (sub === 'ls') {
    const r = await client.get<{ entries: DlqEntry[]; size: number; next_cursor: string | null }>(
      `/v1/audit/dlq?limit=${encodeURIComponent(values.limit)}`,
    );
    if (values.json) {
      console.log(JSON.stringify(r, null, 2));
      return ExitCode.ok;
    }
    console.log(
      renderTable(
        ['id', 'age', 'reason', 'replayable', 'event_id', 'zone', 'event_type'],
        r.entries.map((e) => [
          e.id,
          `${e.age_seconds}s`,
          e.reason,
          e.replayable ? 'yes' : 'no',
          e.event_id,
          e.zone_id,
          e.event_type,
        ]),
        { maxWidth: 60 },
      ),
    );
    console.error(
      `${r.entries.length} of ${r.size} dead letter(s)${r.next_cursor ? ' (more with --limit)' : ''}`,
    );
    return ExitCode.ok;
  }
  if (sub === 'show') {
    const id = positionals[0];
    if (!id) throw new UsageError('dlq show needs an id');
    const e = await client.get<DlqEntryDetail>(`/v1/audit/dlq/${encodeURIComponent(id)}`);
    console.log(values.json ? JSON.stringify(e, null, 2) : formatEntry(e));
    return ExitCode.ok;
  }
  if (sub === 'replay') {
    const q = new URLSearchParams({ limit: values.limit });
    if (values.id) q.set('id', values.id);
    const r = await client.post<ReplayResult>(`/v1/audit/dlq/replay?${q.toString()}`);
    console.log(
      values.json
        ? JSON.stringify(r)
        : `scanned ${r.scanned}, replayed ${r.replayed}, skipped ${r.skipped} (not replayable)`,
    );
    return ExitCode.ok;
  }
  throw new UsageError(`unknown subcommand "dlq ${sub}"\n\n${help}`);
}

function formatEntry(e: DlqEntryDetail): string {
  return [
    `dead letter ${e.id}  (${e.replayable ? 'replayable' : 'not replayable'})`,
    `  reason       ${e.reason}`,
    `  received     ${new Date(e.received_at).toISOString()} (${e.age_seconds}s ago)`,
    `  event        ${e.event_id ?? '-'} ${e.event_type ?? ''} zone=${e.zone_id ?? '-'} request=${e.request_id ?? '-'}`,
    `  signature    ${e.source_sig ?? '(none)'}`,
    '  source event:',
    `    ${JSON.stringify(e.source_event, null, 2).replace(/\n/g, '\n    ')}`,
  ].join('\n');
}
