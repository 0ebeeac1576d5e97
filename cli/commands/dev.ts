// `ledgerhub dev` (what `npm start` runs): the whole stack on one machine. Local Redis and Postgres
// with a persistent data folder, migrations, the worker, the API and console, and a demo producer
// emitting realistic traffic, with a live count of what was ingested. Ctrl-C stops everything cleanly.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { newToken } from '../../api/auth.ts';
import { type ApiHandle, startApi } from '../../api/main.ts';
import { generateCheckpointKeyPair } from '../../ledger/checkpoint-key.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { apiKeys, DEV_PG_PORT, DEV_REDIS_PORT, workerKeys } from '../../ledger/config/roles.ts';
import { connectClient, createPool } from '../../ledger/db.ts';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import { startDevMaintenance } from '../../ledger/integrity-dev-maintenance.ts';
import { migrate } from '../../ledger/migrate.ts';
import { AuditProducer } from '../../ledger/producer.ts';
import { createRedis } from '../../ledger/redis.ts';
import { createLogger } from '../../ledger/runtime/log.ts';
import { trafficGenerator } from '../../ledger/scenarios.ts';
import { startWorker } from '../../worker/main.ts';
import { ExitCode, parseOptions } from '../exit.ts';

export const summary = 'run the whole stack locally with demo traffic (what `npm start` runs)';

export const DEV_API_PORT = 58080;

const help = `usage: ledgerhub dev [--data DIR] [--rate N] [--no-demo] [--reset]

  --data DIR   persistent data folder (default ./data): Postgres, Redis, spill files, secrets, logs
  --rate N     demo requests per second (default 20; each request is 1-5 events)
  --no-demo    do not emit demo traffic
  --reset      delete the data folder first

Uses REDIS_URL / DATABASE_URL when they answer; otherwise starts redis-server and postgres from the
system packages on 127.0.0.1:${DEV_REDIS_PORT} and 127.0.0.1:${DEV_PG_PORT}. Serves the API and console on
127.0.0.1:${DEV_API_PORT}. Writes DIR/dev.env so other terminals can use the CLI against the stack.`;

interface DevSecrets {
  hmacKey: string;
  apiToken: string;
  apiTokenEntry: ReturnType<typeof newToken>['entry'];
  checkpointKeyPem: string;
}

/** Secrets of the local stack, made once; a secret added in a later version is added, none replaced. */
function loadSecrets(dir: string): DevSecrets {
  const file = join(dir, 'dev-secrets.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>) : {};
  const token = stored.apiToken && stored.apiTokenEntry ? null : newToken('dev-console', ['audit:admin']);
  const secrets: DevSecrets = {
    hmacKey: stored.hmacKey ?? randomBytes(32).toString('hex'),
    apiToken: stored.apiToken ?? token!.token,
    apiTokenEntry: stored.apiTokenEntry ?? token!.entry,
    checkpointKeyPem: stored.checkpointKeyPem ?? generateCheckpointKeyPair().privateKeyPem,
  };
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
  const stops: (() => Promise<unknown>)[] = [];

  // test/support holds the local-services module; it is not part of the production image
  const { startLocalStack } = await import('../../test/support/local-services.ts').catch((err: unknown) => {
    throw new LedgerhubError(
      Errors.dependencyMissing,
      `ledgerhub dev runs from a source checkout (it needs test/support): ${(err as Error).message}`,
    );
  });
  say(`starting Redis and Postgres (data in ${dataDir})`);
  const stack = await startLocalStack({ dataDir, redisPort: DEV_REDIS_PORT, pgPort: DEV_PG_PORT, log: say });
  stops.push(() => stack.stop());
  const secrets = loadSecrets(dataDir);
  const checkpointKeyFile = join(dataDir, 'checkpoint-key.pem');
  writeFileSync(checkpointKeyFile, secrets.checkpointKeyPem, { mode: 0o600 });
  const apiUrl = `http://127.0.0.1:${DEV_API_PORT}`;
  const env: Record<string, string> = {
    REDIS_URL: stack.redisUrl,
    DATABASE_URL: stack.databaseUrl,
    AUDIT_HMAC_KEY: secrets.hmacKey,
    LEDGERHUB_API_URL: apiUrl,
    LEDGERHUB_TOKEN: secrets.apiToken,
    LEDGERHUB_CHECKPOINT_KEY_FILE: checkpointKeyFile,
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
  const level = process.env.LOG_LEVEL ?? 'info';
  const roleEnv = { ...process.env, ...env, LOG_LEVEL: level };

  const workerConfig = loadConfig('worker', workerKeys, { ...roleEnv, HOSTNAME: 'dev-worker-0', PORT: '0' });
  const worker = await startWorker(workerConfig, { log: createLogger('worker', level, logDest) });
  stops.unshift(() => worker.stop());
  say(`worker consuming ${workerConfig.stream}`);

  let api: ApiHandle;
  try {
    api = await startApi(
      loadConfig('api', apiKeys, {
        ...roleEnv,
        PORT: String(DEV_API_PORT),
        LEDGERHUB_API_HOST: '127.0.0.1',
        LEDGERHUB_DB_ROLE: 'ledgerhub_reader',
        LEDGERHUB_API_TOKENS: JSON.stringify([secrets.apiTokenEntry]),
      }),
      { log: createLogger('api', level, logDest) },
    );
  } catch (err) {
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      say(`port ${DEV_API_PORT} is taken: is another \`npm start\` running? Stop it first.`);
      for (const stop of stops) await stop().catch(() => {});
      return ExitCode.unavailable;
    }
    throw err;
  }
  stops.unshift(() => api.stop());

  // test/support's strict SIEM receivers stand in for Splunk, Elastic and a webhook endpoint
  const { startDevForwarding } = await import('../../forwarder/dev-sinks.ts');
  const forwarding = await startDevForwarding({
    redisUrl: stack.redisUrl,
    databaseUrl: stack.databaseUrl,
    dataDir,
    log: createLogger('forwarder', level, logDest),
  });
  stops.unshift(() => forwarding.stop());
  say(
    `forwarding to local Splunk HEC ${forwarding.urls.splunkHec}, Elasticsearch ${forwarding.urls.elasticsearch} and a webhook ${forwarding.urls.webhook}`,
  );

  const maintenance = startDevMaintenance({
    databaseUrl: stack.databaseUrl,
    redisUrl: stack.redisUrl,
    hmacKey: workerConfig.hmacKey,
    checkpointKey: secrets.checkpointKeyPem,
    stream: workerConfig.stream,
    log: createLogger('maintenance', level, logDest),
  });
  stops.unshift(() => maintenance.stop());
  say('retention, integrity sweeps and signed checkpoints running on timers');

  const redis = createRedis(stack.redisUrl, 'ledgerhub-dev-demo');
  const producer = new AuditProducer({
    redis,
    stream: workerConfig.stream,
    hmacKey: workerConfig.hmacKey,
    spillDir: join(dataDir, 'spill'),
  });
  await producer.start();
  stops.unshift(async () => {
    await producer.close();
    redis.disconnect();
  });
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

  const pool = createPool({ databaseUrl: stack.databaseUrl, dbMaxConns: 1 });
  stops.push(() => pool.end());
  const denied = await firstDenial(pool, values['no-demo'] ? 0 : 15_000);
  const rel = relative(process.cwd(), join(dataDir, 'dev.env')) || 'dev.env';
  say('');
  say(`console:   ${apiUrl}/#token=${secrets.apiToken}`);
  say(`token:     ${secrets.apiToken}`);
  if (denied) {
    say(`a denied request to explain (in the console, or in another terminal):`);
    say(
      `           source ${rel} && npm run ledgerhub -- explain ${denied.request_id} --zone ${denied.zone_id}`,
    );
  }
  say(
    `API:       curl -H "authorization: Bearer $LEDGERHUB_TOKEN" ${apiUrl}/v1/zones   (after: source ${rel})`,
  );
  say(`logs:      ${logFile}`);
  say('Ctrl-C to stop');
  say('');

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
      const c = forwarding.counts();
      const line = `ingested ${seq} events · ${rate.toFixed(1)}/s · pending ${stats.pending + stats.undelivered} · DLQ ${stats.dlqSize} · delivered: Splunk ${c.splunkHecEvents}, Elastic ${c.elasticsearchDocuments}, webhook ${c.webhookBatches} batches`;
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
    // SIGHUP too: a closed terminal (or a wrapper exiting first) must not orphan the servers
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, resolveStop);
  });
  if (tty) process.stdout.write('\n');
  say('stopping...');
  clearInterval(status);
  if (demoTimer) clearInterval(demoTimer);
  for (const stop of stops)
    await stop().catch((err: unknown) => say(`while stopping: ${(err as Error).message}`));
  logDest.flushSync();
  say('stopped');
  return ExitCode.ok;
}

/** A recent denied token exchange, waiting up to `timeoutMs` for the demo traffic to produce one. */
async function firstDenial(
  pool: import('pg').Pool,
  timeoutMs: number,
): Promise<{ request_id: string; zone_id: string } | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ request_id: string; zone_id: string }>(
      `SELECT request_id, zone_id FROM audit_events
       WHERE decision = 'deny' AND event_type = 'token_exchange' ORDER BY ledger_seq DESC LIMIT 1`,
    );
    if (rows[0] || Date.now() > deadline) return rows[0] ?? null;
    await new Promise((r) => setTimeout(r, 200));
  }
}
