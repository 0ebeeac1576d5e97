// `ledgerhub dev` (what `npm start` runs): the whole stack on one machine. Local Redis and Postgres
// with a persistent data folder, migrations, the worker, and a demo producer emitting realistic
// traffic, with a live count of what was ingested. Ctrl-C stops everything cleanly.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../ledger/config/keys.ts';
import { DEV_PG_PORT, DEV_REDIS_PORT, workerKeys } from '../../ledger/config/roles.ts';
import { connectClient, createPool } from '../../ledger/db.ts';
import { migrate } from '../../ledger/migrate.ts';
import { AuditProducer } from '../../ledger/producer.ts';
import { createRedis } from '../../ledger/redis.ts';
import { createLogger } from '../../ledger/runtime/log.ts';
import { trafficGenerator } from '../../ledger/scenarios.ts';
import { startWorker } from '../../worker/main.ts';
import { ExitCode, parseOptions } from '../exit.ts';

export const summary = 'run the whole stack locally with demo traffic (what `npm start` runs)';

const help = `usage: ledgerhub dev [--data DIR] [--rate N] [--no-demo] [--reset]

  --data DIR   persistent data folder (default ./data): Postgres, Redis, spill files, secrets
  --rate N     demo requests per second (default 20; each request is 1-5 events)
  --no-demo    do not emit demo traffic
  --reset      delete the data folder first

Uses REDIS_URL / DATABASE_URL when they answer; otherwise starts redis-server and postgres from the
system packages on 127.0.0.1:${DEV_REDIS_PORT} and 127.0.0.1:${DEV_PG_PORT}. Writes DIR/dev.env for other terminals.`;

interface DevSecrets {
  hmacKey: string;
}

function loadSecrets(dir: string): DevSecrets {
  const file = join(dir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = { hmacKey: randomBytes(32).toString('hex') };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      help: { type: 'boolean', short: 'h' },
      data: { type: 'string', default: 'data' },
      rate: { type: 'string', default: '20' },
      'no-demo': { type: 'boolean' },
      reset: { type: 'boolean' },
    },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const dataDir = resolve(values.data);
  if (values.reset) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const say = (line: string) => console.log(`[dev] ${line}`);

  // test/support holds the local-services module; it is not part of the production image
  const { startLocalStack } = await import('../../test/support/local-services.ts');
  say(`starting Redis and Postgres (data in ${dataDir})`);
  const stack = await startLocalStack({
    dataDir,
    redisPort: DEV_REDIS_PORT,
    pgPort: DEV_PG_PORT,
    log: say,
  });
  const secrets = loadSecrets(dataDir);
  const env: Record<string, string> = {
    REDIS_URL: stack.redisUrl,
    DATABASE_URL: stack.databaseUrl,
    AUDIT_HMAC_KEY: secrets.hmacKey,
  };
  writeFileSync(
    join(dataDir, 'dev.env'),
    `${Object.entries(env)
      .map(([k, v]) => `export ${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );

  const admin = await connectClient({
    databaseUrl: stack.databaseUrl,
    applicationName: 'ledgerhub-dev-migrate',
  });
  const migrated = await migrate(admin);
  await admin.end();
  say(
    `schema ready (${migrated.applied.length} migration(s) applied now, ${migrated.alreadyApplied} before)`,
  );

  const logFile = join(dataDir, 'ledgerhub.log');
  const { pino } = await import('pino');
  const logDest = pino.destination({ dest: logFile, append: true, sync: false });
  const roleEnv = {
    ...process.env,
    ...env,
    HOSTNAME: 'dev-worker-0',
    PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const workerConfig = loadConfig('worker', workerKeys, roleEnv);
  const worker = await startWorker(workerConfig, {
    log: createLogger('worker', workerConfig.logLevel, logDest),
  });
  say(`worker consuming ${workerConfig.stream} (metrics: http://127.0.0.1:${worker.port}/metrics)`);

  const redis = createRedis(stack.redisUrl, 'ledgerhub-dev-demo');
  const producer = new AuditProducer({
    redis,
    stream: workerConfig.stream,
    hmacKey: workerConfig.hmacKey,
    spillDir: join(dataDir, 'spill'),
  });
  await producer.start();
  let demoTimer: NodeJS.Timeout | undefined;
  if (!values['no-demo']) {
    const rate = Math.max(1, Number(values.rate));
    const gen = trafficGenerator();
    demoTimer = setInterval(() => {
      for (let i = 0; i < Math.max(1, Math.round(rate / 10)); i++)
        for (const e of gen.next()) producer.emit(e);
    }, 100);
    say(`demo producer emitting ~${rate} requests/s of realistic traffic`);
  }
  say(`logs: ${logFile}`);
  say(`other terminals: source ${join(values.data, 'dev.env')} && npm run ledgerhub -- verify`);
  say('Ctrl-C to stop');

  const pool = createPool({ databaseUrl: stack.databaseUrl, dbMaxConns: 1 });
  let last = { at: Date.now(), seq: 0 };
  const tty = process.stdout.isTTY;
  let lastLine = 0;
  const status = setInterval(async () => {
    try {
      const { rows } = await pool.query<{ seq: number }>(
        'SELECT last_ledger_seq AS seq FROM audit_ledger_state',
      );
      const stats = await worker.refreshStats();
      const seq = rows[0]?.seq ?? 0;
      const now = Date.now();
      const rate = ((seq - last.seq) * 1000) / Math.max(1, now - last.at);
      last = { at: now, seq };
      const line = `ingested ${seq} events · ${rate.toFixed(1)}/s · pending ${stats.pending + stats.undelivered} · DLQ ${stats.dlqSize}`;
      if (tty) process.stdout.write(`\r${line}   `);
      else if (now - lastLine >= 10_000) {
        lastLine = now;
        console.log(`[dev] ${line}`);
      }
    } catch {
      // the status line is best effort; the log has the details
    }
  }, 1000);

  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  if (tty) process.stdout.write('\n');
  say('stopping...');
  clearInterval(status);
  if (demoTimer) clearInterval(demoTimer);
  await producer.close();
  redis.disconnect();
  await worker.stop();
  await pool.end();
  await stack.stop();
  logDest.flushSync();
  say('stopped');
  return ExitCode.ok;
}
