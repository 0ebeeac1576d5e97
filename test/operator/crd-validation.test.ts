// Bad input is refused by the API server: AuditPolicies and AuditSinks that break the schema, its enums,
// bounds or CEL rules are rejected (through kubectl when installed), and the API server and the zod
// schemas accept and refuse exactly the same specs. Every example manifest is accepted.
import { readdirSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { AuditSinkSpecInput } from '../../ledger/sinks/spec.ts';
import { AuditPolicySpec, type AuditPolicySpecInput } from '../../operator/api/audit-policy.ts';
import { AuditSinkSpec } from '../../operator/api/audit-sink.ts';
import { type FakeKubeApiServer, startFakeKubeApiServer } from '../support/kube-apiserver/index.ts';
import { KUBECTL, type Kubectl, kubectlFor } from './kubectl.ts';
import { installCrds } from './operator-fixture.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const NS = 'validation';
let kube: FakeKubeApiServer;
let kubectl: Kubectl;
let seq = 0;

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  installCrds(kube);
  kube.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const kc = new KubeConfig();
  kc.loadFromOptions(kube.kubeConfigOptions());
  kubectl = kubectlFor(kube, kc);
});

afterAll(async () => {
  kubectl.close();
  await kube.stop();
});

/** Whether the API server stores the object (in-process, no kubectl: the same admission pipeline). */
function serverAccepts(kind: 'AuditPolicy' | 'AuditSink', spec: unknown): { ok: boolean; message: string } {
  try {
    kube.upsert({
      apiVersion: 'ledgerhub.io/v1alpha1',
      kind,
      metadata: { name: `x${seq++}`, namespace: NS },
      spec,
    });
    return { ok: true, message: '' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

const LEDGER = { redisUrl: { name: 'l', key: 'redis' }, postgresUrl: { name: 'l', key: 'pg' } };
const dev = (extra: Partial<AuditPolicySpecInput> = {}): AuditPolicySpecInput => ({
  mode: 'development',
  ledger: LEDGER,
  ...extra,
});
const ref = { name: 's', key: 'k' };
const hook = (extra: Record<string, unknown> = {}) => ({
  endpoint: 'https://h.example/x',
  signingSecret: ref,
  ...extra,
});

const POLICIES: [string, boolean, unknown][] = [
  ['a minimal development policy', true, dev()],
  ['production mode without an HMAC key', false, { ledger: LEDGER }],
  ['production mode with an HMAC key', true, { ledger: { ...LEDGER, hmacKey: ref } }],
  ['retention of 0 days', false, dev({ retention: { days: 0 } })],
  ['retention of -5 days', false, dev({ retention: { days: -5 } })],
  ['retention of 1 day', true, dev({ retention: { days: 1 } })],
  ['a schedule with minute 61', false, dev({ retention: { schedule: '61 * * * *' } })],
  ['a schedule with three fields', false, dev({ retention: { schedule: '* * *' } })],
  ['a macro schedule', true, dev({ retention: { schedule: '@daily' } })],
  [
    'steps, ranges, lists and names',
    true,
    dev({ integrity: { verifySchedule: '*/15 0-6 1,15 JAN-MAR mon-fri' } }),
  ],
  ['a time zone inside the schedule', false, dev({ retention: { schedule: 'TZ=UTC 0 3 * * *' } })],
  [
    'an export to both S3 and a volume',
    false,
    dev({
      export: {
        destination: {
          volume: { claimName: 'v' },
          s3: { bucket: 'bkt', accessKeyId: ref, secretAccessKey: ref },
        },
      },
    }),
  ],
  ['an export without a destination', false, dev({ export: { destination: {} } })],
  ['an export to a volume', true, dev({ export: { destination: { volume: { claimName: 'v' } } } })],
  [
    'an unknown export format',
    false,
    dev({ export: { formats: ['csv' as 'ndjson'], destination: { volume: { claimName: 'v' } } } }),
  ],
  ['the same sink twice', false, dev({ sinks: [{ sinkRef: { name: 'a' } }, { sinkRef: { name: 'a' } }] })],
  ['two different sinks', true, dev({ sinks: [{ sinkRef: { name: 'a' } }, { sinkRef: { name: 'b' } }] })],
  ['65 ingestion workers', false, dev({ ingestion: { replicas: 65 } })],
  [
    'quantities as strings and integers',
    true,
    dev({ ingestion: { resources: { requests: { cpu: 2, memory: '1.5Gi' } } } }),
  ],
  ['a quantity that is not one', false, dev({ ingestion: { resources: { limits: { memory: 'lots' } } } })],
  ['an unknown mode', false, dev({ mode: 'staging' as 'production' })],
  ['a sink name that is not a DNS name', false, dev({ sinks: [{ sinkRef: { name: 'Bad_Name' } }] })],
  ['no ledger', false, { mode: 'development' }],
];

const SINKS: [string, boolean, AuditSinkSpecInput | Record<string, unknown>][] = [
  ['a webhook sink', true, { type: 'webhook', webhook: hook() }],
  ['a Splunk HEC sink', true, { type: 'splunkHec', splunkHec: { endpoint: 'https://s:8088', token: ref } }],
  [
    'Elasticsearch with an index and an API key',
    true,
    { type: 'elasticsearch', elasticsearch: { endpoint: 'https://e', index: 'audit', apiKey: ref } },
  ],
  [
    'Elasticsearch with a data stream and basic auth',
    true,
    {
      type: 'elasticsearch',
      elasticsearch: { endpoint: 'https://e', dataStream: 'logs-a', username: 'u', password: ref },
    },
  ],
  ['type splunkHec with a webhook block', false, { type: 'splunkHec', webhook: hook() }],
  [
    'two blocks',
    false,
    { type: 'webhook', webhook: hook(), splunkHec: { endpoint: 'https://s', token: ref } },
  ],
  ['no block', false, { type: 'elasticsearch' }],
  [
    'Elasticsearch with index and dataStream',
    false,
    {
      type: 'elasticsearch',
      elasticsearch: { endpoint: 'https://e', index: 'a', dataStream: 'b', apiKey: ref },
    },
  ],
  [
    'Elasticsearch with neither index nor dataStream',
    false,
    { type: 'elasticsearch', elasticsearch: { endpoint: 'https://e', apiKey: ref } },
  ],
  [
    'Elasticsearch with an API key and a user',
    false,
    {
      type: 'elasticsearch',
      elasticsearch: { endpoint: 'https://e', index: 'a', apiKey: ref, username: 'u', password: ref },
    },
  ],
  [
    'Elasticsearch with a user but no password',
    false,
    { type: 'elasticsearch', elasticsearch: { endpoint: 'https://e', index: 'a', username: 'u' } },
  ],
  [
    'a webhook overriding Content-Type',
    false,
    { type: 'webhook', webhook: hook({ headers: { 'Content-Type': 'text/plain' } }) },
  ],
  [
    'a webhook overriding webhook-signature from a Secret',
    false,
    { type: 'webhook', webhook: hook({ secretHeaders: { 'Webhook-Signature': ref } }) },
  ],
  ['a header name with a space', false, { type: 'webhook', webhook: hook({ headers: { 'X Bad': 'x' } }) }],
  ['an ftp endpoint', false, { type: 'webhook', webhook: hook({ endpoint: 'ftp://h.example/x' }) }],
  [
    'a client certificate without its key',
    false,
    { type: 'webhook', webhook: hook(), tls: { clientCert: ref } },
  ],
  [
    'retry.maxMs below initialMs',
    false,
    { type: 'webhook', webhook: hook(), retry: { initialMs: 5000, maxMs: 1000 } },
  ],
  [
    'breaker probes shrinking',
    false,
    { type: 'webhook', webhook: hook(), breaker: { probeIntervalMs: 9000, maxProbeIntervalMs: 1000 } },
  ],
  ['concurrency 0', false, { type: 'webhook', webhook: hook(), concurrency: 0 }],
  ['an unknown type', false, { type: 'kafka' }],
  ['an empty batch', false, { type: 'webhook', webhook: hook(), batch: { events: 0 } }],
  ['an unknown format', false, { type: 'webhook', webhook: hook(), format: 'cef' }],
];

describe('the API server and the zod schemas agree', () => {
  it.each(POLICIES)('AuditPolicy: %s (valid: %s)', (_what, valid, spec) => {
    const server = serverAccepts('AuditPolicy', spec);
    expect(server.ok, server.message).toBe(valid);
    expect(AuditPolicySpec.safeParse(spec).success).toBe(valid);
  });

  it.each(SINKS)('AuditSink: %s (valid: %s)', (_what, valid, spec) => {
    const server = serverAccepts('AuditSink', spec);
    expect(server.ok, server.message).toBe(valid);
    expect(AuditSinkSpec.safeParse(spec).success).toBe(valid);
  });
});

describe(`refusals as a user sees them (${KUBECTL ? 'kubectl' : 'server-side apply; kubectl not installed'})`, () => {
  it('refuses a policy with an invalid schedule and too short a retention, naming both fields', async () => {
    const manifest = stringify({
      apiVersion: 'ledgerhub.io/v1alpha1',
      kind: 'AuditPolicy',
      metadata: { name: 'bad-policy' },
      spec: dev({ retention: { days: 0, schedule: 'every day' } }),
    });
    const r = await kubectl.apply(manifest, NS);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('spec.retention.schedule');
    expect(r.output).toContain('must be a cron schedule');
    expect(kube.get('ledgerhub.io/v1alpha1', 'AuditPolicy', NS, 'bad-policy')).toBeUndefined();
  });

  it('refuses a sink whose block does not match its type', async () => {
    const manifest = stringify({
      apiVersion: 'ledgerhub.io/v1alpha1',
      kind: 'AuditSink',
      metadata: { name: 'bad-sink' },
      spec: { type: 'splunkHec', webhook: hook() },
    });
    const r = await kubectl.apply(manifest, NS);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('type is splunkHec, so the splunkHec block (and no other) must be set');
  });

  it('refuses a policy name too long to prefix the objects it owns', async () => {
    const manifest = stringify({
      apiVersion: 'ledgerhub.io/v1alpha1',
      kind: 'AuditPolicy',
      metadata: { name: 'a-policy-name-that-is-far-too-long-for-cronjobs' },
      spec: dev(),
    });
    const r = await kubectl.apply(manifest, NS);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('at most 42 characters');
  });
});

describe('examples/', () => {
  const files = readdirSync(`${ROOT}examples`).filter((f) => f.endsWith('.yaml'));

  it('has a sink of every type, a full policy and the Secrets they use', () => {
    const kinds = files.flatMap((f) =>
      parseAllDocuments(readFileSync(`${ROOT}examples/${f}`, 'utf8')).map((d) => d.toJS()),
    );
    expect(new Set(kinds.filter((k) => k.kind === 'AuditSink').map((k) => k.spec.type))).toEqual(
      new Set(['splunkHec', 'elasticsearch', 'webhook']),
    );
    const full = kinds.find((k) => k.kind === 'AuditPolicy' && k.spec.export);
    expect(Object.keys(full.spec).sort()).toEqual(
      [
        'api',
        'export',
        'forwarder',
        'ingestion',
        'integrity',
        'ledger',
        'logLevel',
        'mode',
        'retention',
        'sinks',
      ].sort(),
    );
  });

  it.each(files)('%s is accepted by the API server and parses with the zod schemas', async (file) => {
    const text = readFileSync(`${ROOT}examples/${file}`, 'utf8');
    const r = await kubectl.apply(text, NS);
    expect(r.ok, r.output).toBe(true);
    for (const doc of parseAllDocuments(text).map((d) => d.toJS())) {
      if (doc.kind === 'AuditPolicy') expect(AuditPolicySpec.safeParse(doc.spec).error).toBeUndefined();
      if (doc.kind === 'AuditSink') expect(AuditSinkSpec.safeParse(doc.spec).error).toBeUndefined();
    }
  });
});
