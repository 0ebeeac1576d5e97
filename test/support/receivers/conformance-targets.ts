// Chooses what each conformance suite talks to, synchronously from the environment: the local stand-in,
// or a real product (HEC_URL+HEC_TOKEN, ES_URL+ES_API_KEY, WEBHOOK_URL+WEBHOOK_SECRET) when configured.
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { type ElasticsearchReceiver, startElasticsearch } from './elasticsearch.ts';
import { type SplunkHecReceiver, startSplunkHec } from './splunk-hec.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook.ts';
import { wireDispatcher } from './wire-client.ts';

export type TargetKind = 'local' | 'remote';

interface TargetLifecycle {
  readonly kind: TargetKind;
  /** For test titles: which product the suite ran against. */
  readonly name: string;
  readonly dispatcher: Dispatcher;
  /** Base URL (no trailing slash); available after start(). */
  url(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface HecTarget extends TargetLifecycle {
  /** A valid token without indexer acknowledgement. */
  readonly token: string;
  /** An index `token` may write to. */
  readonly allowedIndex: string;
  /** An index `token` may not write to, when known. */
  readonly deniedIndex: string | undefined;
  /** A valid token with indexer acknowledgement on, when known. */
  readonly ackToken: string | undefined;
  readonly disabledToken: string | undefined;
  /** A token that accepts `?token=`, when known. */
  readonly queryStringToken: string | undefined;
  /** The stand-in, only for local targets. */
  receiver(): SplunkHecReceiver;
}

const env = process.env;

/**
 * Remote when HEC_URL and HEC_TOKEN are set. Optional: HEC_ACK_TOKEN (useACK on), HEC_DISABLED_TOKEN,
 * HEC_QUERY_TOKEN (query-string auth allowed), HEC_INDEX (allowed, default "main"), HEC_DENIED_INDEX,
 * HEC_TLS_INSECURE=1 (self-signed certificate). Tests needing an unset value do not run.
 */
export function hecTarget(): HecTarget {
  const remoteUrl = env['HEC_URL'];
  const remoteToken = env['HEC_TOKEN'];
  if (remoteUrl && remoteToken) {
    return {
      kind: 'remote',
      name: `Splunk HEC at ${remoteUrl}`,
      dispatcher: wireDispatcher(env['HEC_TLS_INSECURE'] === '1'),
      url: () => remoteUrl.replace(/\/+$/, ''),
      start: async () => {},
      stop: async () => {},
      token: remoteToken,
      allowedIndex: env['HEC_INDEX'] ?? 'main',
      deniedIndex: env['HEC_DENIED_INDEX'],
      ackToken: env['HEC_ACK_TOKEN'],
      disabledToken: env['HEC_DISABLED_TOKEN'],
      queryStringToken: env['HEC_QUERY_TOKEN'],
      receiver: () => {
        throw new Error('receiver-only test ran against a remote HEC');
      },
    };
  }
  const token = randomUUID();
  const ackToken = randomUUID();
  const disabledToken = randomUUID();
  const queryStringToken = randomUUID();
  let running: SplunkHecReceiver | undefined;
  return {
    kind: 'local',
    name: 'local Splunk HEC stand-in',
    dispatcher: wireDispatcher(),
    url: () => started(running).url,
    async start() {
      running = await startSplunkHec({
        tokens: {
          [token]: { indexes: ['main', 'audit'] },
          [ackToken]: { ack: true },
          [disabledToken]: { disabled: true },
          [queryStringToken]: { allowQueryString: true },
        },
      });
    },
    stop: async () => running?.stop(),
    token,
    allowedIndex: 'audit',
    deniedIndex: 'forbidden',
    ackToken,
    disabledToken,
    queryStringToken,
    receiver: () => started(running),
  };
}

export interface EsTarget extends TargetLifecycle {
  /** An Authorization header value that works. */
  readonly authorization: string;
  /** A working Basic header value, when known. */
  readonly basicAuthorization: string | undefined;
  /** A data stream the cluster has a data-stream index template for, when known. */
  readonly dataStream: string | undefined;
  /** Prefix for the indices this run creates (unique per run). */
  readonly indexPrefix: string;
  receiver(): ElasticsearchReceiver;
}

/**
 * Remote when ES_URL and ES_API_KEY (the base64 `encoded` form) are set. Optional: ES_DATA_STREAM (a
 * name matching a data-stream index template), ES_BASIC_USER + ES_BASIC_PASSWORD, ES_TLS_INSECURE=1.
 * Indices created by a run share a unique prefix and are deleted afterwards.
 */
export function esTarget(): EsTarget {
  const indexPrefix = `ledgerhub-conformance-${randomUUID().slice(0, 8)}`;
  const remoteUrl = env['ES_URL'];
  const remoteKey = env['ES_API_KEY'];
  if (remoteUrl && remoteKey) {
    const user = env['ES_BASIC_USER'];
    const password = env['ES_BASIC_PASSWORD'];
    return {
      kind: 'remote',
      name: `Elasticsearch at ${remoteUrl}`,
      dispatcher: wireDispatcher(env['ES_TLS_INSECURE'] === '1'),
      url: () => remoteUrl.replace(/\/+$/, ''),
      start: async () => {},
      stop: async () => {},
      authorization: `ApiKey ${remoteKey}`,
      basicAuthorization: user && password ? basicHeader(user, password) : undefined,
      dataStream: env['ES_DATA_STREAM'],
      indexPrefix,
      receiver: () => {
        throw new Error('receiver-only test ran against a remote Elasticsearch');
      },
    };
  }
  const apiKey = `conformance:${randomUUID()}`;
  const password = randomUUID();
  let running: ElasticsearchReceiver | undefined;
  return {
    kind: 'local',
    name: 'local Elasticsearch stand-in',
    dispatcher: wireDispatcher(),
    url: () => started(running).url,
    async start() {
      running = await startElasticsearch({
        apiKeys: [apiKey],
        basic: [{ user: 'ledgerhub', password }],
        dataStreams: ['logs-ledgerhub-*'],
        mappings: { 'typed-*': { 'event.created': 'date', attempts: 'long' } },
      });
    },
    stop: async () => running?.stop(),
    authorization: `ApiKey ${Buffer.from(apiKey).toString('base64')}`,
    basicAuthorization: basicHeader('ledgerhub', password),
    dataStream: 'logs-ledgerhub-conformance',
    indexPrefix,
    receiver: () => started(running),
  };
}

export interface WebhookTarget extends TargetLifecycle {
  /** The `whsec_` secret the endpoint verifies with. */
  readonly secret: string;
  /** The URL deliveries are POSTed to. */
  endpoint(): string;
  receiver(): WebhookReceiver;
}

/** Remote when WEBHOOK_URL (the full endpoint URL) and WEBHOOK_SECRET are set; WEBHOOK_TLS_INSECURE=1 optional. */
export function webhookTarget(): WebhookTarget {
  const remoteUrl = env['WEBHOOK_URL'];
  const remoteSecret = env['WEBHOOK_SECRET'];
  if (remoteUrl && remoteSecret) {
    return {
      kind: 'remote',
      name: `webhook endpoint ${remoteUrl}`,
      dispatcher: wireDispatcher(env['WEBHOOK_TLS_INSECURE'] === '1'),
      url: () => new URL(remoteUrl).origin,
      endpoint: () => remoteUrl,
      start: async () => {},
      stop: async () => {},
      secret: remoteSecret,
      receiver: () => {
        throw new Error('receiver-only test ran against a remote webhook endpoint');
      },
    };
  }
  const secret = `whsec_${Buffer.from(randomUUID().replaceAll('-', '')).toString('base64')}`;
  let running: WebhookReceiver | undefined;
  return {
    kind: 'local',
    name: 'local Standard Webhooks stand-in',
    dispatcher: wireDispatcher(),
    url: () => started(running).url,
    endpoint: () => `${started(running).url}/hooks/ledgerhub`,
    async start() {
      running = await startWebhookReceiver({ secret });
    },
    stop: async () => running?.stop(),
    secret,
    receiver: () => started(running),
  };
}

function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function started<R>(receiver: R | undefined): R {
  if (receiver === undefined) throw new Error('conformance target used before start()');
  return receiver;
}
