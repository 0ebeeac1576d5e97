// A forwarder under test: its own ledger database, Redis key prefix and Secrets folder; events committed
// straight into the ledger (as the worker commits them); sink entries pointing at the local receivers;
// and a few probes (health, dead letters, pending jobs) for assertions.

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForwarderConfig, type ForwarderHandle, startForwarder } from '../../../forwarder/main.ts';
import { appendBatch } from '../../../ledger/append-batch.ts';
import { forwarderKeys } from '../../../ledger/config/forwarder.ts';
import { loadConfig } from '../../../ledger/config/keys.ts';
import type { AuditEventInput } from '../../../ledger/event.ts';
import { prepareEvent } from '../../../ledger/prepare-event.ts';
import { createLogger, type Logger } from '../../../ledger/runtime/log.ts';
import {
  type DeadLetter,
  getSinkHealth,
  listDeadLetters,
  type SinkHealth,
} from '../../../ledger/sinks/health-store.ts';
import { ForwarderSinkEntry, type ForwarderSinkEntryInput } from '../../../ledger/sinks/sinks-file.ts';
import { createLedgerFixture, type LedgerFixture } from '../../support/ledger-fixture.ts';
import type {
  ElasticsearchReceiver,
  SplunkHecReceiver,
  WebhookReceiver,
} from '../../support/receivers/index.ts';

export interface ForwarderFixture {
  ledger: LedgerFixture;
  prefix: string;
  secretsDir: string;
  env: Record<string, string>;
  config(overrides?: Record<string, string>): ForwarderConfig;
  writeSecret(name: string, key: string, value: string): { name: string; key: string };
  /** Commits events into the ledger in batches of `batchSize` (one transaction each). */
  commit(events: AuditEventInput[], batchSize?: number): Promise<{ first: number; last: number }>;
  start(sinks: ForwarderSinkEntryInput[], overrides?: Record<string, string>): Promise<ForwarderHandle>;
  health(sink: string): Promise<SinkHealth>;
  deadLetters(sink: string): Promise<DeadLetter[]>;
  /** Ledger seqs of every committed event. */
  head(): Promise<number>;
  close(): Promise<void>;
}

/** Fast timings for tests: quick polls and reconciles, short locks, near-immediate retries. */
export const TEST_FORWARDER_ENV = {
  LEDGERHUB_FORWARDER_POLL_MS: '500',
  LEDGERHUB_FORWARDER_RECONCILE_MS: '1000',
  LEDGERHUB_FORWARDER_HEALTH_MS: '200',
  LEDGERHUB_FORWARDER_LOCK_MS: '2000',
  LEDGERHUB_SHUTDOWN_TIMEOUT_MS: '2000',
  LEDGERHUB_SECRETS_REFRESH_MS: '100',
};

/** Retry and breaker timings that keep fault tests short. */
export const FAST_RETRY = {
  retry: { initialMs: 20, maxMs: 200 },
  breaker: { failureThreshold: 3, probeIntervalMs: 200, maxProbeIntervalMs: 1000 },
  batch: { waitMs: 50 },
};

export async function createForwarderFixture(label: string): Promise<ForwarderFixture> {
  const ledger = await createLedgerFixture(label);
  const prefix = `lhfwd-${label}-${randomBytes(3).toString('hex')}`;
  const secretsDir = mkdtempSync(join(tmpdir(), `ledgerhub-${label}-secrets-`));
  const env: Record<string, string> = {
    REDIS_URL: ledger.env.REDIS_URL!,
    DATABASE_URL: ledger.db.url,
    HOSTNAME: `fwd-${randomBytes(3).toString('hex')}`,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LEDGERHUB_FORWARDER_PREFIX: prefix,
    LEDGERHUB_SECRETS_DIR: secretsDir,
    ...TEST_FORWARDER_ENV,
  };
  const config = (overrides: Record<string, string> = {}) =>
    loadConfig('forwarder', forwarderKeys, { ...env, ...overrides });
  const running: ForwarderHandle[] = [];
  const log: Logger = createLogger('forwarder', env.LOG_LEVEL);
  return {
    ledger,
    prefix,
    secretsDir,
    env,
    config,
    writeSecret(name, key, value) {
      mkdirSync(join(secretsDir, name), { recursive: true });
      writeFileSync(join(secretsDir, name, key), value);
      return { name, key };
    },
    async commit(events, batchSize = 200) {
      const client = await ledger.db.pool.connect();
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      try {
        for (let i = 0; i < events.length; i += batchSize) {
          const prepared = events.slice(i, i + batchSize).map((e) => {
            const p = prepareEvent(JSON.stringify(e), null);
            if (!p.ok) throw new Error(`test event does not prepare: ${p.error}`);
            return p.event;
          });
          const r = await appendBatch(client, prepared, { hmacKey: null, consumer: 'test' });
          if (r.firstSeq !== null) first = Math.min(first, r.firstSeq);
          if (r.lastSeq !== null) last = Math.max(last, r.lastSeq);
        }
      } finally {
        client.release();
      }
      return { first, last };
    },
    async start(sinks, overrides = {}) {
      const handle = await startForwarder(config(overrides), {
        sinks: sinks.map((s) => ForwarderSinkEntry.parse(s)),
        log,
        env: {},
      });
      running.push(handle);
      return handle;
    },
    async health(sink) {
      const h = await getSinkHealth(ledger.db.pool, sink);
      if (!h) throw new Error(`no health for sink ${sink}`);
      return h;
    },
    async deadLetters(sink) {
      return (await listDeadLetters(ledger.db.pool, sink, { limit: 1000 })).deadLetters;
    },
    async head() {
      const { rows } = await ledger.db.pool.query<{ s: number }>(
        'SELECT last_ledger_seq AS s FROM audit_ledger_state',
      );
      return rows[0]!.s;
    },
    async close() {
      for (const h of running) await h.stop().catch(() => {});
      rmSync(secretsDir, { recursive: true, force: true });
      await ledger.close();
    },
  };
}

/** A Splunk HEC sink entry for a receiver (its first token written as a Secret). */
export function hecSinkEntry(
  fx: ForwarderFixture,
  hec: SplunkHecReceiver,
  name = 'splunk',
  extra: {
    splunkHec?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    route?: Record<string, unknown>;
  } = {},
): ForwarderSinkEntryInput {
  const token = fx.writeSecret(`${name}-token`, 'token', hec.token);
  return {
    name,
    spec: {
      type: 'splunkHec',
      splunkHec: { endpoint: hec.url, token, ...extra.splunkHec },
      ...FAST_RETRY,
      ...extra.spec,
    } as ForwarderSinkEntryInput['spec'],
    ...(extra.route ? { route: extra.route } : {}),
  };
}

/** An Elasticsearch sink entry (API key `id:key` written as a Secret). */
export function esSinkEntry(
  fx: ForwarderFixture,
  es: ElasticsearchReceiver,
  apiKey: string,
  name = 'elastic',
  extra: {
    elasticsearch?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    route?: Record<string, unknown>;
  } = {},
): ForwarderSinkEntryInput {
  const ref = fx.writeSecret(`${name}-key`, 'api-key', apiKey);
  return {
    name,
    spec: {
      type: 'elasticsearch',
      elasticsearch: { endpoint: es.url, index: 'ledgerhub-audit', apiKey: ref, ...extra.elasticsearch },
      ...FAST_RETRY,
      ...extra.spec,
    } as ForwarderSinkEntryInput['spec'],
    ...(extra.route ? { route: extra.route } : {}),
  };
}

/** A webhook sink entry (the receiver's secret written as a Secret). */
export function webhookSinkEntry(
  fx: ForwarderFixture,
  hooks: WebhookReceiver,
  name = 'webhook',
  extra: {
    webhook?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    route?: Record<string, unknown>;
  } = {},
): ForwarderSinkEntryInput {
  const ref = fx.writeSecret(`${name}-secret`, 'secret', hooks.secret);
  return {
    name,
    spec: {
      type: 'webhook',
      webhook: { endpoint: `${hooks.url}/audit`, signingSecret: ref, ...extra.webhook },
      ...FAST_RETRY,
      ...extra.spec,
    } as ForwarderSinkEntryInput['spec'],
    ...(extra.route ? { route: extra.route } : {}),
  };
}

/**
 * Promise 4 for one sink over [first, last]: every matching event was received (`received` holds the
 * seqs the receiver got, duplicates allowed) or waits in the sink's dead letters; none is lost.
 */
export async function expectNoneLost(
  fx: ForwarderFixture,
  sink: string,
  range: { first: number; last: number },
  received: number[],
): Promise<{ delivered: Set<number>; dead: Set<number> }> {
  const delivered = new Set(received.filter((s) => s >= range.first && s <= range.last));
  const dead = new Set(
    (await fx.deadLetters(sink)).map((d) => d.ledgerSeq).filter((s) => s >= range.first && s <= range.last),
  );
  const missing: number[] = [];
  for (let seq = range.first; seq <= range.last; seq++)
    if (!delivered.has(seq) && !dead.has(seq)) missing.push(seq);
  if (missing.length > 0) throw new Error(`sink ${sink} lost ledger seqs ${missing.slice(0, 20).join(', ')}`);
  return { delivered, dead };
}

/** Ledger seqs carried by what a receiver got, from the fields every format and sink include. */
export function hecSeqs(hec: SplunkHecReceiver): number[] {
  return hec.events().map((e) => Number(e.fields?.ledgerhub_seq));
}
