// The Helm chart, rendered here without helm (helm-template.ts): values checked against
// values.schema.json, the operator Deployment restricted and configured only with keys the operator
// reads, least-privilege RBAC that still covers every request the operator makes, the optional
// ServiceMonitor / PodMonitor / PrometheusRule / NetworkPolicy / PodDisruptionBudget, and alerts on
// metrics that exist.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../ledger/config/keys.ts';
import { operatorKeys } from '../../ledger/config/operator.ts';
import { createMaintenanceMetrics } from '../../ledger/integrity-metrics.ts';
import { createOperatorMetrics } from '../../operator/metrics.ts';
import {
  basicPolicy,
  type Json,
  ledgerSecret,
  type OperatorFixture,
  startOperatorFixture,
  WEBHOOK_SECRET,
  webhookSink,
} from '../operator/operator-fixture.ts';
import type { RequestRecord } from '../support/kube-apiserver/index.ts';
import { waitFor } from '../support/wait.ts';
import { HelmTemplates, helmRoot, mergeValues } from './helm-template.ts';

const CHART = new URL('../../charts/ledgerhub', import.meta.url).pathname;
const templates = new HelmTemplates(`${CHART}/templates`);
const defaults = parse(readFileSync(`${CHART}/values.yaml`, 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(`${CHART}/values.schema.json`, 'utf8')),
);

const ALL_ON = {
  serviceMonitor: { enabled: true },
  podMonitor: { enabled: true },
  prometheusRule: { enabled: true },
  networkPolicy: { enabled: true, apiServerCIDRs: ['10.96.0.1/32'] },
  podDisruptionBudget: { enabled: true },
  metrics: { bearerSecret: { name: 'ledgerhub-metrics', key: 'token' } },
};

const render = (overrides: Json = {}): Json[] => templates.objects(helmRoot(CHART, overrides));
const find = (objects: Json[], kind: string, name?: string): Json =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

describe('values', () => {
  it('validates the default values.yaml against values.schema.json', () => {
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(mergeValues(defaults, ALL_ON)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses typos, bad values and inconsistent settings', () => {
    expect(validate(mergeValues(defaults, { operater: {} }))).toBe(false);
    expect(validate(mergeValues(defaults, { operator: { replica: 3 } }))).toBe(false);
    expect(validate(mergeValues(defaults, { operator: { logLevel: 'verbose' } }))).toBe(false);
    expect(validate(mergeValues(defaults, { operator: { replicas: 2, leaderElect: false } }))).toBe(false);
    expect(validate(mergeValues(defaults, { operator: { replicas: 1, leaderElect: false } }))).toBe(true);
    // a ServiceMonitor cannot scrape a production operator's /metrics without the bearer
    expect(validate(mergeValues(defaults, { serviceMonitor: { enabled: true } }))).toBe(false);
  });
});

describe('rendered chart', () => {
  it('renders the CRDs, the operator and its RBAC by default, and the extras only when enabled', () => {
    const kinds = render().map((o) => o.kind);
    expect(kinds.sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'CustomResourceDefinition',
        'CustomResourceDefinition',
        'Deployment',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    const extras = render(ALL_ON).map((o) => o.kind);
    for (const kind of [
      'ServiceMonitor',
      'PodMonitor',
      'PrometheusRule',
      'NetworkPolicy',
      'PodDisruptionBudget',
    ]) {
      expect(extras).toContain(kind);
    }
    expect(render({ crds: { install: false } }).map((o) => o.kind)).not.toContain('CustomResourceDefinition');
  });

  it('runs the operator restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
    const pod = find(render(), 'Deployment').spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [c] = pod.containers;
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.args).toEqual(['operator']);
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
  });

  it('configures the operator only with keys it reads, with values it accepts', () => {
    const [c] = find(render(ALL_ON), 'Deployment').spec.template.spec.containers;
    const env: Record<string, string> = {};
    for (const e of c.env) {
      env[e.name] =
        e.value ?? (e.valueFrom.fieldRef.fieldPath === 'metadata.namespace' ? 'ledgerhub-system' : 'pod-0');
    }
    const known = new Set(
      Object.values(operatorKeys).flatMap((k) => [k.env, ...(k.secret ? [`${k.env}_FILE`] : [])]),
    );
    for (const name of Object.keys(env)) {
      if (name !== 'NODE_OPTIONS') expect(known.has(name), `${name} is not an operator key`).toBe(true);
    }
    const config = loadConfig('operator', operatorKeys, { ...env, METRICS_BEARER_FILE: '' });
    expect(config).toMatchObject({
      namespace: 'ledgerhub-system',
      leaderElect: true,
      leaseName: 'ledgerhub-operator',
      workloadImage: 'ghcr.io/ledgerhub/ledgerhub:0.1.0',
      port: 8081,
      mode: 'production',
    });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
  });

  it('grants a ClusterRole without wildcards, or a Role when one namespace is watched', () => {
    const objects = render();
    for (const rule of find(objects, 'ClusterRole').rules) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      expect(rule.apiGroups).not.toContain('*');
    }
    const secrets = find(objects, 'ClusterRole').rules.find((r: Json) => r.resources.includes('secrets'));
    expect(secrets.verbs).toEqual(['get', 'list', 'watch']);
    const scoped = render({ operator: { watchNamespace: 'audit' } });
    expect(find(scoped, 'ClusterRole')).toBeUndefined();
    expect(find(scoped, 'Role', 'ledgerhub-operator').metadata.namespace).toBe('audit');
    expect(find(scoped, 'RoleBinding', 'ledgerhub-operator').roleRef.kind).toBe('Role');
  });

  it('alerts only on metrics the operator and the sweepers export, with Caracal’s alerts among them', () => {
    const rule = find(render(ALL_ON), 'PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g: Json) => g.rules);
    expect(alerts.map((a: Json) => a.alert)).toEqual(
      expect.arrayContaining([
        'LedgerhubAuditDLQNonEmpty',
        'LedgerhubAuditDLQGrowth',
        'LedgerhubAuditConsumerLagHigh',
        'LedgerhubAuditTamperDetected',
        'LedgerhubSinkFailing',
        'LedgerhubSinkBacklog',
      ]),
    );
    const exported = new Set([
      ...createOperatorMetrics()
        .registry.getMetricsAsArray()
        .map((m) => m.name),
      ...createMaintenanceMetrics()
        .registry.getMetricsAsArray()
        .map((m) => m.name),
    ]);
    for (const a of alerts) {
      for (const metric of String(a.expr).match(/\b(ledgerhub|caracal_audit)_\w+/g) ?? []) {
        expect(exported.has(metric), `${a.alert} uses ${metric}`).toBe(true);
      }
    }
  });

  it('lets the NetworkPolicy reach the API server, the ledgers and DNS, and admits metrics scrapes', () => {
    const np = find(render(ALL_ON), 'NetworkPolicy');
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const ports = np.spec.egress.flatMap((e: Json) => e.ports.map((p: Json) => p.port));
    expect(ports).toEqual(expect.arrayContaining([443, 6443, 6379, 5432, 53]));
    expect(np.spec.egress[0].to).toEqual([{ ipBlock: { cidr: '10.96.0.1/32' } }]);
    expect(np.spec.ingress[0].ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
  });

  it('applies to an API server: the Deployment, Service and ServiceAccount pass its validation', async () => {
    const { startFakeKubeApiServer } = await import('../support/kube-apiserver/index.ts');
    const kube = await startFakeKubeApiServer();
    try {
      kube.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ledgerhub-system' } });
      for (const o of render(ALL_ON)) {
        if (['Deployment', 'Service', 'ServiceAccount', 'CustomResourceDefinition'].includes(o.kind))
          kube.upsert(o);
      }
      expect(kube.get('apps/v1', 'Deployment', 'ledgerhub-system', 'ledgerhub-operator')).toBeDefined();
    } finally {
      await kube.stop();
    }
  });
});

describe('RBAC against what the operator really does', () => {
  let fx: OperatorFixture;
  let since: number;

  beforeAll(async () => {
    since = Date.now();
    fx = await startOperatorFixture({ LEDGERHUB_OPERATOR_LEASE_NAME: 'ledgerhub-operator' });
  });

  afterAll(async () => {
    await fx.stop();
  });

  it('allows every request of a full reconcile cycle and nothing is missing', async () => {
    fx.secret('hook', { secret: WEBHOOK_SECRET });
    fx.sink('hook', webhookSink());
    fx.secret('rbac-ledger', ledgerSecret('rbac'));
    fx.policy('rbac', basicPolicy('rbac-ledger', { sinks: [{ sinkRef: { name: 'hook' } }] }));
    await waitFor('objects', () => fx.owned('apps/v1', 'Deployment', 'rbac-worker'), 10_000);
    await fx.idle();
    fx.makeAvailable('rbac');
    await fx.waitFor('AuditPolicy', 'rbac', 'Ready', 'True');
    const current = fx.get('AuditPolicy', 'rbac');
    fx.kube.upsert({ ...current, spec: { ...current.spec, api: { enabled: false } } });
    await waitFor(
      'the API Service pruned',
      () => !fx.owned('v1', 'Service', 'rbac-api') || undefined,
      10_000,
    );

    const objects = render();
    const clusterRules: Json[] = find(objects, 'ClusterRole').rules;
    const leaseRules: Json[] = find(objects, 'Role', 'ledgerhub-operator-leader-election').rules;
    const allowed = (r: RequestRecord) => {
      const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
      const rules = r.resource === 'leases' ? leaseRules : clusterRules;
      return rules.some(
        (rule) =>
          rule.apiGroups.includes(r.group ?? '') &&
          rule.resources.includes(resource) &&
          rule.verbs.includes(r.verb) &&
          (!rule.resourceNames || rule.resourceNames.includes(r.name)),
      );
    };
    const requests = fx.kube.requests.entries({ sinceMs: since, resourceRequestsOnly: true });
    const denied = requests.filter((r) => !allowed(r)).map((r) => `${r.verb} ${r.group ?? ''}/${r.resource}`);
    expect([...new Set(denied)]).toEqual([]);
    const used = new Set(
      requests.map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`),
    );
    for (const needed of [
      'watch secrets',
      'patch deployments',
      'patch auditpolicies/status',
      'create events',
      'delete services',
    ]) {
      expect(used.has(needed), needed).toBe(true);
    }
  });
});
