// Dev-only (`ledgerhub dev`): the three strict local receivers (Splunk HEC, Elasticsearch, Standard
// Webhooks) from test/support, and a forwarder delivering the ledger to all of them, so a newcomer sees
// delivery happen. Production code never imports this module.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwarderKeys } from '../ledger/config/forwarder.ts';
import { loadConfig } from '../ledger/config/keys.ts';
import type { Logger } from '../ledger/runtime/log.ts';
import { type ForwarderSinkEntry, parseSinksFile } from '../ledger/sinks/sinks-file.ts';
import { startElasticsearch, startSplunkHec, startWebhookReceiver } from '../test/support/receivers/index.ts';
import { type ForwarderHandle, startForwarder } from './main.ts';

export interface DevForwardingOptions {
  redisUrl: string;
  databaseUrl: string;
  log?: Logger;
  /** Where the sinks file and the sink Secrets are written (default: a temporary folder). */
  dataDir?: string;
  logLevel?: string;
}

export interface DevForwarding {
  urls: { splunkHec: string; elasticsearch: string; webhook: string };
  /** The sinks file the forwarder runs (also an example to copy). */
  sinksFile: string;
  forwarder: ForwarderHandle;
  /** What the receivers accepted so far. */
  counts(): { splunkHecEvents: number; elasticsearchDocuments: number; webhookBatches: number };
  stop(): Promise<void>;
}

export const DEV_DATA_STREAM = 'logs-ledgerhub-audit';
/** Receivers keep at most this many records each, so a long demo keeps memory flat. */
const DEV_STORED_RECORDS = 10_000;

export async function startDevForwarding(opts: DevForwardingOptions): Promise<DevForwarding> {
  const hecToken = randomUUID();
  const esKey = `ledgerhub-dev:${randomBytes(12).toString('base64url')}`;
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const hec = await startSplunkHec({
    tokens: { [hecToken]: { indexes: ['ledgerhub'] } },
    maxStoredEvents: DEV_STORED_RECORDS,
  });
  const es = await startElasticsearch({
    apiKeys: [esKey],
    dataStreams: ['logs-*'],
    maxStoredDocuments: DEV_STORED_RECORDS,
  });
  const hooks = await startWebhookReceiver({ secret: webhookSecret, maxStoredDeliveries: 1000 });

  const dir = opts.dataDir
    ? join(opts.dataDir, 'forwarder')
    : mkdtempSync(join(tmpdir(), 'ledgerhub-dev-forwarder-'));
  const secretsDir = join(dir, 'secrets');
  const writeSecret = (name: string, key: string, value: string) => {
    mkdirSync(join(secretsDir, name), { recursive: true, mode: 0o700 });
    writeFileSync(join(secretsDir, name, key), value, { mode: 0o600 });
  };
  writeSecret('dev-splunk', 'token', hecToken);
  writeSecret('dev-elastic', 'api-key', esKey);
  writeSecret('dev-webhook', 'secret', webhookSecret);
  const sinksText = `${JSON.stringify(
    {
      sinks: [
        {
          name: 'dev-splunk',
          spec: {
            type: 'splunkHec',
            splunkHec: { endpoint: hec.url, token: { name: 'dev-splunk', key: 'token' }, index: 'ledgerhub' },
            format: 'caracal',
          },
        },
        {
          name: 'dev-elastic',
          spec: {
            type: 'elasticsearch',
            elasticsearch: {
              endpoint: es.url,
              dataStream: DEV_DATA_STREAM,
              apiKey: { name: 'dev-elastic', key: 'api-key' },
            },
            format: 'ecs',
          },
        },
        {
          name: 'dev-webhook',
          spec: {
            type: 'webhook',
            webhook: {
              endpoint: `${hooks.url}/ledgerhub`,
              signingSecret: { name: 'dev-webhook', key: 'secret' },
            },
            format: 'ocsf',
          },
          route: { decisions: ['deny', 'rejected'] },
        },
      ],
    },
    null,
    2,
  )}\n`;
  const sinksFile = join(dir, 'sinks.json');
  writeFileSync(sinksFile, sinksText);
  const sinks: ForwarderSinkEntry[] = parseSinksFile(sinksText, sinksFile);

  const config = loadConfig('forwarder', forwarderKeys, {
    REDIS_URL: opts.redisUrl,
    DATABASE_URL: opts.databaseUrl,
    HOSTNAME: 'dev-forwarder-0',
    PORT: '0',
    LOG_LEVEL: opts.logLevel ?? 'info',
    LEDGERHUB_SINKS_FILE: sinksFile,
    LEDGERHUB_SECRETS_DIR: secretsDir,
  });
  let forwarder: ForwarderHandle;
  try {
    forwarder = await startForwarder(config, { sinks, ...(opts.log ? { log: opts.log } : {}) });
  } catch (err) {
    await Promise.all([hec.stop(), es.stop(), hooks.stop()]);
    throw err;
  }
  return {
    urls: { splunkHec: hec.url, elasticsearch: es.url, webhook: hooks.url },
    sinksFile,
    forwarder,
    counts: () => ({
      splunkHecEvents: hec.acceptedCount,
      elasticsearchDocuments: es.count(DEV_DATA_STREAM) + es.droppedDocuments,
      webhookBatches: hooks.deliveredCount,
    }),
    async stop() {
      await forwarder.stop();
      await Promise.all([hec.stop(), es.stop(), hooks.stop()]);
    },
  };
}
