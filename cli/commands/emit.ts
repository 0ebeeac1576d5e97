// `ledgerhub emit`: sends events to the audit stream, signed when AUDIT_HMAC_KEY is set; from a file,
// stdin, an argument or the demo generator; optionally waits until the ledger has stored them.
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../ledger/config/keys.ts';
import { connectionKeys, runtimeKeys, streamKeys } from '../../ledger/config/roles.ts';
import { createPool } from '../../ledger/db.ts';
import { type AuditEventInput, AuditEventSchema, describeSchemaError } from '../../ledger/event.ts';
import { waitForIngested } from '../../ledger/ingestion-watermark.ts';
import { AuditProducer } from '../../ledger/producer.ts';
import { createRedis } from '../../ledger/redis.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';

export const summary = 'send audit events to the stream (signed), optionally waiting until stored';

const help = `usage: ledgerhub emit [<event-json>] [--file F] [--demo N] [--wait SECONDS] [--no-validate]

  <event-json>      one event as a JSON argument
  --file F          a file of events: NDJSON or a JSON array; "-" reads stdin
  --demo N          N realistic events from the demo generator
  --wait SECONDS    wait until every event is stored (needs DATABASE_URL); exit 1 if not
  --no-validate     send events that do not match the contract (to exercise the dead-letter path)

Signs with AUDIT_HMAC_KEY when set. Prints one line per event id with --verbose.
Exit codes: 0 sent (and stored with --wait), 1 some not sent or not stored, 2 bad usage or invalid event.`;

const configKeys = { ...connectionKeys, ...streamKeys, ...runtimeKeys };

export function parseEventsText(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as unknown[];
  return trimmed
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (err) {
        throw new UsageError(`line ${i + 1}: ${(err as Error).message}`);
      }
    });
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    {
      help: { type: 'boolean', short: 'h' },
      file: { type: 'string', short: 'f' },
      demo: { type: 'string' },
      wait: { type: 'string' },
      'no-validate': { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
    },
    help,
    true,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  let events: unknown[] = [];
  if (values.file)
    events.push(...parseEventsText(readFileSync(values.file === '-' ? 0 : values.file, 'utf8')));
  for (const p of positionals) events.push(...parseEventsText(p));
  if (values.demo) events.push(...realisticEvents(Number(values.demo)));
  if (events.length === 0) throw new UsageError(`no events given\n\n${help}`);
  if (!values['no-validate']) {
    events.forEach((e, i) => {
      const r = AuditEventSchema.safeParse(e);
      if (!r.success) throw new UsageError(`event ${i + 1}: ${describeSchemaError(r.error)}`);
    });
  }
  events = events as AuditEventInput[];

  const config = loadConfig('emit', configKeys);
  const redis = createRedis(config.redisUrl, 'ledgerhub-emit');
  const producer = new AuditProducer({
    redis,
    stream: config.stream,
    hmacKey: config.hmacKey,
    spillDir: null,
  });
  for (const e of events as AuditEventInput[]) producer.emit(e);
  const stats = await producer.close(10_000);
  redis.disconnect();
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  const ids = (events as AuditEventInput[]).map((e) => e.id);
  if (values.verbose) for (const id of ids) console.log(id);
  console.error(
    `sent ${stats.sent} event(s) to ${config.stream}${config.hmacKey ? ' (signed)' : ' (unsigned)'}` +
      (dropped > 0 ? `; ${dropped} not sent: ${JSON.stringify(stats.dropped)}` : ''),
  );
  if (stats.sent < events.length) return ExitCode.failed;

  if (values.wait !== undefined) {
    const pool = createPool({ ...config, dbMaxConns: 2, applicationName: 'ledgerhub-emit' });
    try {
      const found = await waitForIngested(pool, ids, Number(values.wait) * 1000);
      console.error(`stored ${found.size}/${ids.length}`);
      if (found.size < ids.length) {
        const missing = ids.filter((id) => !found.has(id));
        console.error(
          `not stored (yet): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`,
        );
        console.error('check the dead-letter stream: ledgerhub dlq ls');
        return ExitCode.failed;
      }
    } finally {
      await pool.end();
    }
  }
  return ExitCode.ok;
}
