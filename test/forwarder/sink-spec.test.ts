// The shared sink definition: the AuditSink spec and route schemas (structural, with defaults, bounds and
// docs for the CRD), the forwarder's sinks file, Secret resolution, and the forwarder's configuration keys.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { forwarderKeys } from '../../ledger/config/forwarder.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { readSecret, secretEnvName } from '../../ledger/sinks/secret-source.ts';
import { loadSinksFile, parseSinksFile } from '../../ledger/sinks/sinks-file.ts';
import {
  AuditSinkSpec,
  PolicySinkEntry,
  SINK_DEFAULTS,
  SinkRoute,
  sinkFormat,
} from '../../ledger/sinks/spec.ts';

const token = { name: 'splunk-hec', key: 'token' };
const hec = { type: 'splunkHec', splunkHec: { endpoint: 'https://splunk.example:8088', token } };

describe('AuditSink spec', () => {
  it('fills every default for a minimal Splunk HEC sink', () => {
    const spec = AuditSinkSpec.parse(hec);
    expect(spec).toMatchObject({
      batch: SINK_DEFAULTS.batch,
      retry: SINK_DEFAULTS.retry,
      breaker: SINK_DEFAULTS.breaker,
      concurrency: 4,
      timeoutMs: 30_000,
      backfill: true,
      tls: { insecureSkipVerify: false },
      splunkHec: {
        source: 'ledgerhub',
        host: 'ledgerhub',
        gzip: false,
        indexerAck: SINK_DEFAULTS.indexerAck,
      },
    });
    expect(spec.batch.bytes).toBe(1_000_000);
  });

  it('defaults the format by type: ecs for Elasticsearch, caracal otherwise', () => {
    expect(sinkFormat({ type: 'elasticsearch' })).toBe('ecs');
    expect(sinkFormat({ type: 'webhook' })).toBe('caracal');
    expect(sinkFormat({ type: 'splunkHec', format: 'ocsf' })).toBe('ocsf');
  });

  it('requires the block that matches the type, and only that one', () => {
    const missing = AuditSinkSpec.safeParse({ type: 'webhook' });
    expect(missing.success).toBe(false);
    expect(missing.error?.issues[0]).toMatchObject({
      path: ['webhook'],
      message: expect.stringContaining('webhook block is required'),
    });
    const extra = AuditSinkSpec.safeParse({
      ...hec,
      webhook: { endpoint: 'https://x', signingSecret: token },
    });
    expect(extra.error?.issues[0]).toMatchObject({ path: ['webhook'] });
  });

  it('wants exactly one of index or data stream, and one way to authenticate, for Elasticsearch', () => {
    const es = (block: Record<string, unknown>) =>
      AuditSinkSpec.safeParse({
        type: 'elasticsearch',
        elasticsearch: { endpoint: 'https://es:9200', ...block },
      });
    expect(es({ index: 'a', apiKey: token }).success).toBe(true);
    expect(es({ dataStream: 'logs-a', username: 'u', password: token }).success).toBe(true);
    expect(es({ apiKey: token }).error?.issues[0]?.message).toMatch(/index or dataStream/);
    expect(es({ index: 'a', dataStream: 'b', apiKey: token }).success).toBe(false);
    expect(es({ index: 'a' }).error?.issues[0]?.message).toMatch(/apiKey or username/);
    expect(es({ index: 'a', username: 'u' }).error?.issues[0]?.message).toMatch(
      /username and password go together/,
    );
    expect(es({ index: 'Upper', apiKey: token }).success).toBe(false);
  });

  it('refuses custom webhook headers that would replace the signature or the content type', () => {
    const r = AuditSinkSpec.safeParse({
      type: 'webhook',
      webhook: {
        endpoint: 'https://hooks.example/in',
        signingSecret: token,
        headers: { 'Webhook-Signature': 'x' },
      },
    });
    expect(r.error?.issues[0]?.message).toMatch(/set by the forwarder/);
  });

  it('bounds batch sizes, concurrency and timeouts, and wants http(s) endpoints', () => {
    expect(AuditSinkSpec.safeParse({ ...hec, batch: { events: 0 } }).success).toBe(false);
    expect(AuditSinkSpec.safeParse({ ...hec, concurrency: 65 }).success).toBe(false);
    expect(AuditSinkSpec.safeParse({ ...hec, timeoutMs: 50 }).success).toBe(false);
    expect(
      AuditSinkSpec.safeParse({ type: 'splunkHec', splunkHec: { endpoint: 'ftp://splunk', token } }).error
        ?.issues[0]?.message,
    ).toMatch(/http/);
  });

  it('is structural JSON Schema for the CRD: a type enum, optional blocks, defaults and descriptions', () => {
    const schema = z.toJSONSchema(AuditSinkSpec, { io: 'input' }) as {
      properties: Record<string, { default?: unknown; description?: string; enum?: string[] }>;
      required: string[];
      oneOf?: unknown;
    };
    expect(schema.oneOf).toBeUndefined();
    expect(schema.required).toEqual(['type']);
    expect(schema.properties.type?.enum).toEqual(['splunkHec', 'elasticsearch', 'webhook']);
    expect(schema.properties.batch?.default).toEqual(SINK_DEFAULTS.batch);
    for (const field of [
      'splunkHec',
      'elasticsearch',
      'webhook',
      'batch',
      'retry',
      'concurrency',
      'format',
    ]) {
      expect(schema.properties[field]?.description, field).toBeTruthy();
    }
  });
});

describe('routes', () => {
  it('default to everything, nothing redacted', () => {
    expect(SinkRoute.parse({})).toEqual({ eventTypes: [], decisions: [], zones: [], redactKeys: [] });
  });

  it('sit next to a sink reference in an AuditPolicy', () => {
    expect(PolicySinkEntry.parse({ sinkRef: { name: 'splunk-prod' } }).route.eventTypes).toEqual([]);
    expect(PolicySinkEntry.safeParse({ sinkRef: { name: 'Not A Name' } }).success).toBe(false);
  });
});

describe('the sinks file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerhub-sinks-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists sinks by name with their spec and route', () => {
    const [entry] = parseSinksFile(
      JSON.stringify({ sinks: [{ name: 'splunk', spec: hec, route: { zones: ['z'] } }] }),
      'x.json',
    );
    expect(entry).toMatchObject({
      name: 'splunk',
      spec: { type: 'splunkHec' },
      route: { zones: ['z'], eventTypes: [] },
    });
  });

  it('names the file, the JSON path and the problem when it is wrong', () => {
    const bad = JSON.stringify({ sinks: [{ name: 'splunk', spec: { ...hec, concurrency: 0 } }] });
    expect(() => parseSinksFile(bad, '/etc/ledgerhub/sinks.json')).toThrow(
      /LEDGERHUB_SINKS_FILE=\/etc\/ledgerhub\/sinks.json: sinks.0.spec.concurrency: /,
    );
    expect(() => parseSinksFile('{', 'x.json')).toThrow(/not JSON/);
    const twice = JSON.stringify({
      sinks: [
        { name: 'a', spec: hec },
        { name: 'a', spec: hec },
      ],
    });
    expect(() => parseSinksFile(twice, 'x.json')).toThrow(/duplicate sink name a/);
  });

  it('is read from disk, and an unset path means no sinks', () => {
    const path = join(dir, 'sinks.json');
    writeFileSync(path, JSON.stringify({ sinks: [{ name: 'splunk', spec: hec }] }));
    expect(loadSinksFile(path)).toHaveLength(1);
    expect(loadSinksFile('')).toEqual([]);
    expect(() => loadSinksFile(join(dir, 'missing.json'))).toThrow(/cannot be read/);
  });
});

describe('sink Secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerhub-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('come from the mounted Secret volume first, trimmed', () => {
    mkdirSync(join(dir, 'splunk-hec'));
    writeFileSync(join(dir, 'splunk-hec', 'token'), 'abc-123\n');
    expect(readSecret(token, { dir, env: { [secretEnvName(token)]: 'from-env' } })).toBe('abc-123');
  });

  it('fall back to LEDGERHUB_SECRET_<NAME>_<KEY>', () => {
    const ref = { name: 'es.prod', key: 'api-key' };
    expect(secretEnvName(ref)).toBe('LEDGERHUB_SECRET_ES_PROD_API_KEY');
    expect(readSecret(ref, { dir, env: { LEDGERHUB_SECRET_ES_PROD_API_KEY: 'id:key' } })).toBe('id:key');
  });

  it('say where they looked when they are missing', () => {
    expect(() => readSecret({ name: 'nope', key: 'k' }, { dir, env: {} })).toThrow(
      /secret nope\/k is not mounted at .*nope\/k and LEDGERHUB_SECRET_NOPE_K is not set/,
    );
  });
});

describe('forwarder configuration', () => {
  it('has defaults for every bound', () => {
    const c = loadConfig('forwarder', forwarderKeys, {});
    expect(c).toMatchObject({
      queuePrefix: 'ledgerhub-fwd',
      maxQueuedBatches: 64,
      scanEvents: 20_000,
      pollIntervalMs: 5000,
      lockDurationMs: 30_000,
      keepJobs: 1000,
      secretsDir: '/var/run/secrets/ledgerhub',
    });
  });

  it('names the key, the value and what was expected', () => {
    expect(() =>
      loadConfig('forwarder', forwarderKeys, { LEDGERHUB_FORWARDER_PREFIX: 'bad:prefix' }),
    ).toThrow(/forwarder: LEDGERHUB_FORWARDER_PREFIX="bad:prefix" is not valid: expected a string matching/);
    expect(() =>
      loadConfig('forwarder', forwarderKeys, { LEDGERHUB_FORWARDER_MAX_QUEUED_BATCHES: '0' }),
    ).toThrow(/an integer from 1 to 10000/);
  });
});
