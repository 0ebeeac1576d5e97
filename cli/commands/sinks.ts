// `ledgerhub sinks ls | show <name> | dlq <name> | replay <name> | enable <name>`: sink health, dead
// letters and replays, read from Postgres (DATABASE_URL; the ledgerhub_reader role suffices).

import { sinksCliKeys } from '../../ledger/config/forwarder.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { createPool } from '../../ledger/db.ts';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import {
  enableSink,
  getSinkHealth,
  listDeadLetters,
  listSinkHealth,
  requestReplay,
  type SinkHealth,
} from '../../ledger/sinks/health-store.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';
import { renderTable } from '../table.ts';

export const summary = 'show SIEM sink health, list and replay sink dead letters';

const help = `usage: ledgerhub sinks ls [--json]
       ledgerhub sinks show <name> [--json]
       ledgerhub sinks dlq <name> [--limit N] [--after SEQ] [--json]
       ledgerhub sinks replay <name> [--limit N] [--json]
       ledgerhub sinks enable <name>

ls       every sink: state, delivered events, lag (events, seconds), dead letters, last error
show     one sink in full: cursor, counters, breaker, last success, last error
dlq      a sink's dead letters in ledger order (seq, event id, error); --after pages on
replay   ask the forwarder to deliver dead letters again (oldest first, up to --limit, default all);
         events refused again return to the dead letters with the new error
enable   resume a sink disabled by a 410 Gone answer

Reads DATABASE_URL (LEDGERHUB_DB_ROLE=ledgerhub_reader is enough).
Exit codes: 0 done, 1 sink not found, 2 bad usage, 3 invalid configuration, 4 Postgres unreachable.`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseOptions(
    rest,
    {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      after: { type: 'string' },
    },
    help,
    true,
  );
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    console.log(help);
    return sub === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (!['ls', 'show', 'dlq', 'replay', 'enable'].includes(sub)) {
    throw new UsageError(`unknown sinks command "${sub}"\n\n${help}`);
  }
  const name = positionals[0];
  if (sub !== 'ls' && !name) throw new UsageError(`sinks ${sub} needs a sink name\n\n${help}`);
  const limit = values.limit === undefined ? undefined : positiveInt('--limit', values.limit);
  const afterSeq = values.after === undefined ? undefined : positiveInt('--after', values.after, 0);

  const config = loadConfig('sinks', sinksCliKeys);
  const pool = createPool({ ...config, dbMaxConns: 1, applicationName: 'ledgerhub-sinks' });
  try {
    const print = (data: unknown, text: () => string) =>
      console.log(values.json ? JSON.stringify(data, null, 2) : text());
    switch (sub) {
      case 'ls': {
        const sinks = await listSinkHealth(pool);
        print({ sinks }, () =>
          sinks.length === 0 ? 'no sinks yet (the forwarder registers its sinks at start)' : sinkTable(sinks),
        );
        return ExitCode.ok;
      }
      case 'show': {
        const sink = await getSinkHealth(pool, name!);
        if (!sink) throw new LedgerhubError(Errors.sinkNotFound, `no sink named ${name}`);
        print(sink, () => sinkDetail(sink));
        return ExitCode.ok;
      }
      case 'dlq': {
        const page = await listDeadLetters(pool, name!, {
          ...(limit === undefined ? {} : { limit }),
          ...(afterSeq === undefined ? {} : { afterSeq }),
        });
        print(page, () =>
          [
            renderTable(
              ['seq', 'event_id', 'batch', 'kind', 'code', 'attempts', 'dead_at', 'replay', 'message'],
              page.deadLetters.map((d) => [
                d.ledgerSeq,
                d.eventId,
                `${d.batch.firstSeq}-${d.batch.lastSeq}`,
                d.error.kind,
                d.error.code,
                d.attempts,
                d.deadAt,
                d.replayRequestedAt ? 'requested' : d.replayCount > 0 ? `${d.replayCount}x` : '-',
                d.error.message,
              ]),
              { maxWidth: 60 },
            ),
            `${page.deadLetters.length} dead letter(s)${page.nextAfterSeq === null ? '' : ` (more: --after ${page.nextAfterSeq})`}`,
          ].join('\n'),
        );
        return ExitCode.ok;
      }
      case 'replay': {
        const requested = await requestReplay(pool, name!, limit === undefined ? {} : { limit });
        print({ sink: name, requested }, () =>
          requested === 0
            ? `${name}: no dead letters to replay`
            : `${name}: ${requested} dead letter(s) handed to the forwarder for delivery`,
        );
        return ExitCode.ok;
      }
      default: {
        await enableSink(pool, name!);
        print(
          { sink: name, enabled: true },
          () => `${name}: enabled; the forwarder resumes delivering to it`,
        );
        return ExitCode.ok;
      }
    }
  } finally {
    await pool.end();
  }
}

function positiveInt(option: string, raw: string, min = 1): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new UsageError(`${option} must be an integer >= ${min}, got ${raw}`);
  return Number(raw);
}

function state(s: SinkHealth): string {
  if (!s.active) return 'inactive';
  if (s.disabled) return 'disabled';
  if (s.breaker === 'open' || s.breaker === 'half_open') return 'paused';
  return 'delivering';
}

function sinkTable(sinks: SinkHealth[]): string {
  return renderTable(
    ['name', 'type', 'state', 'delivered', 'lag', 'lag_s', 'dead', 'last_success', 'last_error'],
    sinks.map((s) => [
      s.name,
      s.type,
      state(s),
      s.deliveredEvents,
      s.lagEvents,
      s.lagSeconds.toFixed(1),
      s.deadLetters,
      s.lastSuccessAt,
      s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : null,
    ]),
    { maxWidth: 50 },
  );
}

function sinkDetail(s: SinkHealth): string {
  const rows: [string, string | number | null][] = [
    ['name', s.name],
    ['type / format', `${s.type} / ${s.format}`],
    ['state', state(s)],
    ['breaker', s.breaker],
    ['disabled', s.disabled ? `${s.disabled.at}: ${s.disabled.reason}` : null],
    ['delivered through', `${s.deliveredThrough} of ${s.ledgerHead} (enqueued through ${s.enqueuedThrough})`],
    ['lag', `${s.lagEvents} events, ${s.lagSeconds.toFixed(1)} s`],
    ['delivered', `${s.deliveredEvents} events in ${s.deliveredBatches} batches`],
    ['dead letters', `${s.deadLetters} now, ${s.deadLetteredTotal} ever, ${s.replayedEvents} replayed`],
    ['last success', s.lastSuccessAt],
    [
      'last error',
      s.lastError
        ? `${s.lastError.at} ${s.lastError.kind} ${s.lastError.code}: ${s.lastError.message}`
        : null,
    ],
    ['updated', s.updatedAt],
  ];
  return rows.map(([k, v]) => `${k.padEnd(18)} ${v ?? '-'}`).join('\n');
}
