// API-server conformance: the semantics the ledgerhub operator relies on, asserted through the real
// @kubernetes/client-node and raw HTTP. Runs against the in-process fake by default; with KUBECONFIG set
// it runs against that cluster instead (needs cluster-admin: it installs two example.com CRDs and a
// scratch namespace). To check another implementation, change createTarget() — nothing else.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type FakeKubeApiServer, startFakeKubeApiServer } from '../support/kube-apiserver/index.ts';
import { eventually } from './eventually.ts';
import { rawRequest } from './raw-request.ts';

// ------------------------------------------------------------------------------------------- the target

interface Target {
  kc: KubeConfig;
  description: string;
  /** set when the target is the fake (some assertions about fake-only knobs use it) */
  fake?: FakeKubeApiServer;
  stop(): Promise<void>;
}

/** The one place that decides what the suite runs against. */
async function createTarget(): Promise<Target> {
  if (process.env['KUBECONFIG']) {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return { kc, description: `cluster at ${kc.getCurrentCluster()?.server}`, stop: async () => {} };
  }
  const fake = await startFakeKubeApiServer();
  const kc = new KubeConfig();
  kc.loadFromOptions(fake.kubeConfigOptions());
  return { kc, description: 'fake apiserver', fake, stop: () => fake.stop() };
}

// ------------------------------------------------------------------------------------------- fixtures

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const GROUP = 'example.com';
const VERSION = 'v1';

let target: Target;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;
let objects: KubernetesObjectApi;
let ns: string;
let counter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${++counter}-${randomBytes(2).toString('hex')}`;

/**
 * Installs a CRD through raw HTTP: client-node's typed serializer drops schema keys whose JSON name differs
 * from its property name (x-kubernetes-*, default, enum), so a CRD read from YAML must not go through it.
 */
async function ensureCrd(text: string): Promise<void> {
  const crd = parse(text);
  const collection = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const created = await rawRequest(kc, 'POST', collection, { body: crd });
  if (created.status === 409) {
    const existing = await rawRequest(kc, 'GET', `${collection}/${crd.metadata.name}`);
    crd.metadata.resourceVersion = existing.json.metadata.resourceVersion;
    const replaced = await rawRequest(kc, 'PUT', `${collection}/${crd.metadata.name}`, { body: crd });
    expect(replaced.status).toBe(200);
  } else {
    expect(created.status).toBe(201);
  }
  await eventually(
    async () => {
      const read = await rawRequest(kc, 'GET', `${collection}/${crd.metadata.name}`);
      return read.json.status?.conditions?.some(
        (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
      );
    },
    { description: `${crd.metadata.name} to be established` },
  );
}

beforeAll(async () => {
  target = await createTarget();
  kc = target.kc;
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  objects = KubernetesObjectApi.makeApiClient(kc);
  ns = uniqueName('conformance');
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await ensureCrd(fixture('widget-crd.yaml'));
  await ensureCrd(fixture('gadget-crd.yaml'));
});

afterAll(async () => {
  await core.deleteNamespace({ name: ns }).catch(() => undefined);
  await target.stop();
});

// ------------------------------------------------------------------------------------------- helpers

interface StatusBody {
  kind: string;
  status: string;
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; kind?: string; causes?: { reason: string; message: string; field: string }[] };
}

/** Awaits a client call that must fail; returns the HTTP code and the Status body. */
async function failure(call: Promise<unknown>): Promise<{ code: number; status: StatusBody }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) {
      return { code: err.code, status: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
    }
    throw err;
  }
  throw new Error('expected the request to fail');
}

function widget(
  name: string,
  spec: Record<string, unknown> = { size: 1 },
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Widget',
    metadata: { name, namespace: ns, ...extra },
    spec,
  };
}

const widgetsPath = (): string => `/apis/${GROUP}/${VERSION}/namespaces/${ns}/widgets`;

async function createWidget(
  name: string,
  spec: Record<string, unknown> = { size: 1 },
  extra: Record<string, unknown> = {},
) {
  return custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: 'widgets',
    body: widget(name, spec, extra),
  });
}

async function getWidget(name: string) {
  return custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: 'widgets',
    name,
  });
}

function deployment(name: string, image = 'nginx:1.27'): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    },
  };
}

interface WatchEvent {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary Kubernetes JSON
  object: any;
}

/** A watch that records its events; `ended` settles when the server ends the stream. */
async function openWatch(path: string, query: Record<string, string | number | boolean | undefined>) {
  const events: WatchEvent[] = [];
  let resolveEnded!: (err: unknown) => void;
  const ended = new Promise<unknown>((resolve) => {
    resolveEnded = resolve;
  });
  const controller = await new Watch(kc).watch(
    path,
    query,
    (type, object) => events.push({ type, object }),
    (err) => resolveEnded(err ?? null),
  );
  return {
    events,
    ended,
    waitFor: (predicate: (events: WatchEvent[]) => boolean, description: string) =>
      eventually(() => predicate(events) && events, { description }),
    stop: () => controller.abort(),
  };
}

const mergeHeaders = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function apply(path: string, body: unknown, query: string) {
  return rawRequest(kc, 'PATCH', `${path}?${query}`, { body, contentType: 'application/apply-patch+yaml' });
}

// ------------------------------------------------------------------------------------------- discovery

describe(`discovery (${process.env['KUBECONFIG'] ? 'real cluster' : 'fake apiserver'})`, () => {
  it('lists the core version and the API groups the operator uses', async () => {
    const api = await rawRequest(kc, 'GET', '/api');
    expect(api.json.kind).toBe('APIVersions');
    expect(api.json.versions).toContain('v1');
    const groups = await rawRequest(kc, 'GET', '/apis');
    const names = groups.json.groups.map((g: { name: string }) => g.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'apps',
        'batch',
        'coordination.k8s.io',
        'events.k8s.io',
        'apiextensions.k8s.io',
        GROUP,
      ]),
    );
  });

  it('describes built-in resources with scope, verbs and status subresources', async () => {
    const core = await rawRequest(kc, 'GET', '/api/v1');
    const configmaps = core.json.resources.find((r: { name: string }) => r.name === 'configmaps');
    expect(configmaps).toMatchObject({ kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] });
    expect(configmaps.verbs).toEqual(
      expect.arrayContaining(['create', 'get', 'list', 'watch', 'patch', 'update', 'delete']),
    );
    const namespaces = core.json.resources.find((r: { name: string }) => r.name === 'namespaces');
    expect(namespaces.namespaced).toBe(false);
    const appsList = await rawRequest(kc, 'GET', '/apis/apps/v1');
    const resourceNames = appsList.json.resources.map((r: { name: string }) => r.name);
    expect(resourceNames).toEqual(expect.arrayContaining(['deployments', 'deployments/status']));
  });

  it('serves a custom resource in discovery once its CRD is established', async () => {
    const list = await rawRequest(kc, 'GET', `/apis/${GROUP}/${VERSION}`);
    expect(list.status).toBe(200);
    const widgets = list.json.resources.find((r: { name: string }) => r.name === 'widgets');
    expect(widgets).toMatchObject({
      kind: 'Widget',
      namespaced: true,
      singularName: 'widget',
      shortNames: ['wdg'],
    });
    expect(widgets.categories).toContain('examples');
    expect(list.json.resources.map((r: { name: string }) => r.name)).toContain('widgets/status');
    const gadgets = list.json.resources.find((r: { name: string }) => r.name === 'gadgets');
    expect(gadgets.namespaced).toBe(false);
    expect(list.json.resources.map((r: { name: string }) => r.name)).not.toContain('gadgets/status');
  });

  it('reports Established and NamesAccepted conditions and the accepted names on the CRD', async () => {
    const crd = await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: `widgets.${GROUP}` });
    const types = crd.status?.conditions?.filter((c) => c.status === 'True').map((c) => c.type);
    expect(types).toEqual(expect.arrayContaining(['Established', 'NamesAccepted']));
    expect(crd.status?.acceptedNames).toMatchObject({ kind: 'Widget', plural: 'widgets' });
    expect(crd.status?.storedVersions).toEqual(['v1']);
  });

  it('answers /version with major and minor', async () => {
    const version = await rawRequest(kc, 'GET', '/version');
    expect(version.json.major).toBe('1');
    expect(Number(version.json.minor.replace(/\D/g, ''))).toBeGreaterThanOrEqual(27);
  });

  it('lets KubernetesObjectApi find custom resources through discovery', async () => {
    const name = uniqueName('objapi');
    const created = (await objects.create(widget(name, { size: 2 }))) as { metadata?: { uid?: string } };
    expect(created.metadata?.uid).toBeTruthy();
    const read = await objects.read({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Widget',
      metadata: { name, namespace: ns },
    });
    expect((read as unknown as { spec: { size: number } }).spec.size).toBe(2);
  });
});

// ------------------------------------------------------------------------------------------- CRUD

describe('create, read, list and metadata', () => {
  it('assigns uid, creationTimestamp, resourceVersion and generation 1 on create', async () => {
    const created = await createWidget(uniqueName('meta'));
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(typeof created.metadata.resourceVersion).toBe('string');
    expect(created.metadata.resourceVersion).not.toBe('');
    expect(created.metadata.generation).toBe(1);
  });

  it('answers 409 AlreadyExists when the name is taken', async () => {
    const name = uniqueName('dup');
    await createWidget(name);
    const { code, status } = await failure(createWidget(name));
    expect(code).toBe(409);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409 });
    expect(status.message).toBe(`widgets.${GROUP} "${name}" already exists`);
    expect(status.details).toMatchObject({ name, kind: 'widgets' });
  });

  it('answers 404 NotFound with a Status for get, replace, patch and delete of a missing object', async () => {
    const name = uniqueName('missing');
    const calls = [
      () => core.readNamespacedConfigMap({ name, namespace: ns }),
      () => core.replaceNamespacedConfigMap({ name, namespace: ns, body: { metadata: { name } } }),
      () => core.patchNamespacedConfigMap({ name, namespace: ns, body: { data: { a: 'b' } } }, mergeHeaders),
      () => core.deleteNamespacedConfigMap({ name, namespace: ns }),
    ];
    for (const call of calls) {
      const { code, status } = await failure(call());
      expect(code).toBe(404);
      expect(status).toMatchObject({
        kind: 'Status',
        reason: 'NotFound',
        message: `configmaps "${name}" not found`,
      });
    }
  });

  it('refuses a namespaced create in a namespace that does not exist with 404', async () => {
    const { code, status } = await failure(
      core.createNamespacedConfigMap({ namespace: 'no-such-namespace', body: { metadata: { name: 'x' } } }),
    );
    expect(code).toBe(404);
    expect(status.message).toBe('namespaces "no-such-namespace" not found');
  });

  it('rejects a name that is not a DNS-1123 subdomain with 422', async () => {
    const { code, status } = await failure(
      core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Bad_Name' } } }),
    );
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toMatch(
      /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    expect(status.details?.causes?.[0]).toMatchObject({
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
    });
  });

  it('generates a name from generateName', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { generateName: 'gen-' } },
    });
    expect(created.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('creates, reads, lists and deletes cluster-scoped custom resources', async () => {
    const name = uniqueName('gadget');
    const created = await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'gadgets',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'Gadget',
        metadata: { name, namespace: 'ignored' },
        spec: { model: 'x1' },
      },
    });
    expect(created.metadata.namespace).toBeUndefined();
    const list = await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'gadgets' });
    expect(list.items.map((g: { metadata: { name: string } }) => g.metadata.name)).toContain(name);
    await custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'gadgets', name });
    const { code } = await failure(
      custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'gadgets', name }),
    );
    expect(code).toBe(404);
  });

  it('lists across all namespaces', async () => {
    const name = uniqueName('everywhere');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    const all = await core.listConfigMapForAllNamespaces({});
    const found = all.items.find((c) => c.metadata?.name === name);
    expect(found?.metadata?.namespace).toBe(ns);
  });

  it('filters lists by label selector (=, !=, in, notin, exists, !exists)', async () => {
    const tag = uniqueName('sel');
    const make = (name: string, labels: Record<string, string>) =>
      core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: `${tag}-${name}`, labels: { suite: tag, ...labels } } },
      });
    await make('a', { tier: 'web', env: 'prod' });
    await make('b', { tier: 'db', env: 'dev' });
    await make('c', { tier: 'cache' });
    const names = async (selector: string) =>
      (await core.listNamespacedConfigMap({ namespace: ns, labelSelector: `suite=${tag},${selector}` })).items
        .map((c) => c.metadata?.name?.slice(tag.length + 1))
        .sort();
    expect(await names('tier=web')).toEqual(['a']);
    expect(await names('tier!=web')).toEqual(['b', 'c']);
    expect(await names('tier in (web,db)')).toEqual(['a', 'b']);
    expect(await names('tier notin (web,db)')).toEqual(['c']);
    expect(await names('env')).toEqual(['a', 'b']);
    expect(await names('!env')).toEqual(['c']);
  });

  it('filters lists by metadata.name and metadata.namespace field selectors and refuses unknown fields', async () => {
    const name = uniqueName('field');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    const byName = await core.listConfigMapForAllNamespaces({ fieldSelector: `metadata.name=${name}` });
    expect(byName.items.map((c) => c.metadata?.name)).toEqual([name]);
    const byNamespace = await core.listConfigMapForAllNamespaces({
      fieldSelector: `metadata.namespace=${ns},metadata.name!=${name}`,
    });
    expect(byNamespace.items.every((c) => c.metadata?.namespace === ns && c.metadata?.name !== name)).toBe(
      true,
    );
    const { code, status } = await failure(
      core.listNamespacedConfigMap({ namespace: ns, fieldSelector: 'data.foo=bar' }),
    );
    expect(code).toBe(400);
    expect(status.message).toContain('field label not supported: data.foo');
  });

  it('pages through a list with limit and continue', async () => {
    const tag = uniqueName('page');
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: `${tag}-${i}`, labels: { page: tag } } },
      });
    }
    const first = await core.listNamespacedConfigMap({
      namespace: ns,
      labelSelector: `page=${tag}`,
      limit: 2,
    });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?._continue).toBeTruthy();
    expect(first.metadata?.remainingItemCount).toBe(3);
    const seen = first.items.map((c) => c.metadata?.name);
    let token = first.metadata?._continue;
    while (token) {
      const page = await core.listNamespacedConfigMap({
        namespace: ns,
        labelSelector: `page=${tag}`,
        limit: 2,
        _continue: token,
      });
      expect(page.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
      seen.push(...page.items.map((c) => c.metadata?.name));
      token = page.metadata?._continue;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${tag}-${i}`));
  });

  it('changes resourceVersion on every write and gives lists a collection resourceVersion to watch from', async () => {
    const name = uniqueName('rv');
    const created = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name }, data: { a: '1' } },
    });
    const updated = await core.patchNamespacedConfigMap(
      { name, namespace: ns, body: { data: { a: '2' } } },
      mergeHeaders,
    );
    expect(updated.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    expect(list.metadata?.resourceVersion).toBeTruthy();
    const watch = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: list.metadata?.resourceVersion,
    });
    await core.patchNamespacedConfigMap({ name, namespace: ns, body: { data: { a: '3' } } }, mergeHeaders);
    const events = await watch.waitFor((e) => e.length > 0, 'the change after the list');
    watch.stop();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['MODIFIED', name]]);
  });

  it('round-trips Lease MicroTime fields unchanged', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const renewTime = new V1MicroTime('2025-03-04T05:06:07.123Z');
    const name = uniqueName('lease');
    await leases.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          holderIdentity: 'pod-a',
          leaseDurationSeconds: 15,
          renewTime,
          acquireTime: renewTime,
          leaseTransitions: 0,
        },
      },
    });
    const raw = await rawRequest(kc, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`);
    expect(raw.json.spec.renewTime).toBe('2025-03-04T05:06:07.123000Z');
    expect(raw.json.spec.acquireTime).toBe('2025-03-04T05:06:07.123000Z');
  });

  it('folds Secret stringData into base64 data and never stores stringData', async () => {
    const name = uniqueName('secret');
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name }, stringData: { token: 'hunter2' } },
    });
    const secret = await core.readNamespacedSecret({ name, namespace: ns });
    expect(secret.data?.['token']).toBe(Buffer.from('hunter2').toString('base64'));
    expect(secret.stringData).toBeUndefined();
    expect(secret.type).toBe('Opaque');
  });
});

// ------------------------------------------------------------------------------------------- concurrency

describe('optimistic concurrency', () => {
  it('answers 409 Conflict when a replace carries a stale resourceVersion', async () => {
    const name = uniqueName('stale');
    const first = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name }, data: { v: '1' } },
    });
    await core.replaceNamespacedConfigMap({ name, namespace: ns, body: { ...first, data: { v: '2' } } });
    const { code, status } = await failure(
      core.replaceNamespacedConfigMap({ name, namespace: ns, body: { ...first, data: { v: '3' } } }),
    );
    expect(code).toBe(409);
    expect(status.reason).toBe('Conflict');
    expect(status.message).toBe(
      `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
  });

  it('answers 409 Conflict when a patch names a stale resourceVersion', async () => {
    const name = uniqueName('stalepatch');
    const created = await createWidget(name);
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: ns, plural: 'widgets', name, body: { spec: { size: 2 } } },
      mergeHeaders,
    );
    const { code } = await failure(
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: 'widgets',
          name,
          body: { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { size: 3 } },
        },
        mergeHeaders,
      ),
    );
    expect(code).toBe(409);
  });

  it('requires a resourceVersion to replace a custom resource, but not a ConfigMap', async () => {
    const name = uniqueName('unconditional');
    await createWidget(name);
    const { code, status } = await failure(
      custom.replaceNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: widget(name, { size: 4 }),
      }),
    );
    expect(code).toBe(422);
    expect(status.message).toContain(
      'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    const replaced = await core.replaceNamespacedConfigMap({
      name,
      namespace: ns,
      body: { metadata: { name }, data: { x: 'y' } },
    });
    expect(replaced.data).toEqual({ x: 'y' });
  });

  it('lets exactly one of two replaces from the same Lease read win (leader election)', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const name = uniqueName('leader');
    await leases.createNamespacedLease({
      namespace: ns,
      body: { metadata: { name }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    const read = await leases.readNamespacedLease({ name, namespace: ns });
    const claim = (holder: string) =>
      leases.replaceNamespacedLease({
        name,
        namespace: ns,
        body: { ...read, spec: { ...read.spec, holderIdentity: holder } },
      });
    const [b, c] = await Promise.allSettled([claim('b'), claim('c')]);
    const outcomes = [b, c].map((r) =>
      r.status === 'fulfilled' ? 'won' : (r.reason as ApiException<string>).code,
    );
    expect(outcomes.sort()).toEqual([409, 'won']);
  });

  it('keeps the resourceVersion when an update changes nothing', async () => {
    const name = uniqueName('noop');
    const created = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name }, data: { a: '1' } },
    });
    const again = await core.replaceNamespacedConfigMap({ name, namespace: ns, body: created });
    expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });
});

// ------------------------------------------------------------------------------------------- generation

describe('metadata.generation', () => {
  it('bumps generation on spec changes only, not on metadata or status writes', async () => {
    const name = uniqueName('gen');
    await createWidget(name, { size: 1 });
    const patch = (body: unknown) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: ns, plural: 'widgets', name, body },
        mergeHeaders,
      );
    const labelled = await patch({ metadata: { labels: { touched: 'yes' } } });
    expect(labelled.metadata.generation).toBe(1);
    const withStatus = await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: { status: { phase: 'Ready' } },
      },
      mergeHeaders,
    );
    expect(withStatus.metadata.generation).toBe(1);
    const resized = await patch({ spec: { size: 2 } });
    expect(resized.metadata.generation).toBe(2);
  });

  it('bumps generation on status changes when the kind has no status subresource', async () => {
    const name = uniqueName('gadget-gen');
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'gadgets',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'Gadget',
        metadata: { name },
        spec: { model: 'a' },
        status: { state: 'new' },
      },
    });
    const patched = await custom.patchClusterCustomObject(
      { group: GROUP, version: VERSION, plural: 'gadgets', name, body: { status: { state: 'used' } } },
      mergeHeaders,
    );
    expect(patched.status.state).toBe('used');
    expect(patched.metadata.generation).toBe(2);
    await custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'gadgets', name });
  });

  it('bumps a Deployment generation when its pod template changes', async () => {
    const name = uniqueName('deploy-gen');
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: deployment(name) });
    expect(created.metadata?.generation).toBe(1);
    const changed = await apps.patchNamespacedDeployment(
      {
        name,
        namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(changed.metadata?.generation).toBe(2);
  });
});

// ------------------------------------------------------------------------------------------- status

describe('status subresource', () => {
  it('drops status on create', async () => {
    const name = uniqueName('nostatus');
    const created = await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      body: { ...widget(name), status: { phase: 'Forged' } },
    });
    expect(created.status).toBeUndefined();
  });

  it('ignores status in writes to the main resource', async () => {
    const name = uniqueName('mainwrite');
    await createWidget(name);
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: { status: { phase: 'Real' } },
      },
      mergeHeaders,
    );
    const current = await getWidget(name);
    const replaced = await custom.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      name,
      body: { ...current, spec: { ...current.spec, size: 5 }, status: { phase: 'Forged' } },
    });
    expect(replaced.spec.size).toBe(5);
    expect(replaced.status.phase).toBe('Real');
  });

  it('changes only status through /status, and serves GET /status', async () => {
    const name = uniqueName('statusonly');
    await createWidget(name, { size: 1 });
    const current = await getWidget(name);
    const updated = await custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      name,
      body: {
        ...current,
        spec: { size: 99 },
        metadata: { ...current.metadata, labels: { sneaky: 'yes' } },
        status: { phase: 'Done' },
      },
    });
    expect(updated.status.phase).toBe('Done');
    expect(updated.spec.size).toBe(1);
    expect(updated.metadata.labels?.['sneaky']).toBeUndefined();
    const status = await rawRequest(kc, 'GET', `${widgetsPath()}/${name}/status`);
    expect(status.json.status.phase).toBe('Done');
  });

  it('isolates Deployment status the same way', async () => {
    const name = uniqueName('deploy-status');
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: { ...deployment(name), status: { replicas: 9 } },
    });
    const current = await apps.readNamespacedDeployment({ name, namespace: ns });
    expect(current.status?.replicas).toBeUndefined();
    const updated = await apps.replaceNamespacedDeploymentStatus({
      name,
      namespace: ns,
      body: { ...current, status: { replicas: 1, availableReplicas: 1, readyReplicas: 1 } },
    });
    expect(updated.status?.availableReplicas).toBe(1);
    expect(updated.metadata?.generation).toBe(1);
  });

  it('answers 404 for /status of a kind without a status subresource', async () => {
    const response = await rawRequest(kc, 'GET', `/apis/${GROUP}/${VERSION}/gadgets/anything/status`);
    expect(response.status).toBe(404);
  });
});

// ------------------------------------------------------------------------------------------- patches

describe('patches', () => {
  it('applies JSON patches and refuses one whose test operation fails with 422', async () => {
    const name = uniqueName('jsonpatch');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { a: '1' } } });
    const path = `/api/v1/namespaces/${ns}/configmaps/${name}`;
    const ok = await rawRequest(kc, 'PATCH', path, {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'add', path: '/data/b', value: '2' },
        { op: 'remove', path: '/data/a' },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.json.data).toEqual({ b: '2' });
    const refused = await rawRequest(kc, 'PATCH', path, {
      contentType: 'application/json-patch+json',
      body: [{ op: 'test', path: '/data/b', value: 'nope' }],
    });
    expect(refused.status).toBe(422);
    expect(refused.json.kind).toBe('Status');
  });

  it('applies merge patches where null deletes a key', async () => {
    const name = uniqueName('mergepatch');
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name, labels: { a: '1', b: '2' } } },
    });
    const patched = await core.patchNamespacedConfigMap(
      { name, namespace: ns, body: { metadata: { labels: { a: null, c: '3' } } } },
      mergeHeaders,
    );
    expect(patched.metadata?.labels).toEqual({ b: '2', c: '3' });
  });

  it('merges Deployment containers by name in a strategic merge patch', async () => {
    const name = uniqueName('smp');
    const base = deployment(name);
    base.spec!.template.spec!.containers.push({ name: 'sidecar', image: 'busybox:1.36' });
    await apps.createNamespacedDeployment({ namespace: ns, body: base });
    const patched = await apps.patchNamespacedDeployment(
      {
        name,
        namespace: ns,
        body: {
          spec: {
            template: {
              spec: {
                containers: [{ name: 'sidecar', image: 'busybox:1.37', env: [{ name: 'A', value: '1' }] }],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = patched.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['app', 'nginx:1.27'],
      ['sidecar', 'busybox:1.37'],
    ]);
    expect(containers[1]?.env).toEqual([{ name: 'A', value: '1' }]);
  });

  it('answers 415 to a strategic merge patch of a custom resource', async () => {
    const name = uniqueName('smp-cr');
    await createWidget(name);
    const response = await rawRequest(kc, 'PATCH', `${widgetsPath()}/${name}`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { size: 2 } },
    });
    expect(response.status).toBe(415);
    expect(response.json.reason).toBe('UnsupportedMediaType');
  });

  it('refuses force on a non-apply patch with 422', async () => {
    const name = uniqueName('force');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    const response = await rawRequest(kc, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/${name}?force=true`, {
      contentType: 'application/merge-patch+json',
      body: { data: { a: 'b' } },
    });
    expect(response.status).toBe(422);
    expect(response.json.message).toContain('force: Forbidden: may not be specified for non-apply patch');
  });

  it('validates but does not persist writes with dryRun=All', async () => {
    const name = uniqueName('dryrun');
    const created = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name } },
      dryRun: 'All',
    });
    expect(created.metadata?.name).toBe(name);
    const { code } = await failure(core.readNamespacedConfigMap({ name, namespace: ns }));
    expect(code).toBe(404);
    const invalid = await failure(createWidget(uniqueName('dry'), { size: 0 }, {}));
    expect(invalid.code).toBe(422);
  });
});

// ------------------------------------------------------------------------------------------- apply

describe('server-side apply', () => {
  const applyWidget = (name: string, spec: Record<string, unknown>, manager: string, force = false) =>
    apply(
      `${widgetsPath()}/${name}`,
      widget(name, spec),
      `fieldManager=${manager}${force ? '&force=true' : ''}`,
    );

  it('creates the object when it is absent and records the manager in managedFields', async () => {
    const name = uniqueName('ssa-create');
    const response = await applyWidget(name, { size: 3, owner: 'alice' }, 'team-a');
    expect(response.status).toBe(201);
    const entry = response.json.metadata.managedFields.find(
      (m: { manager: string }) => m.manager === 'team-a',
    );
    expect(entry).toMatchObject({ operation: 'Apply', fieldsType: 'FieldsV1' });
    expect(entry.fieldsV1['f:spec']).toMatchObject({ 'f:size': {}, 'f:owner': {} });
  });

  it('requires a fieldManager for apply patches with 422', async () => {
    const name = uniqueName('ssa-nomanager');
    const response = await rawRequest(kc, 'PATCH', `${widgetsPath()}/${name}`, {
      body: widget(name),
      contentType: 'application/apply-patch+yaml',
    });
    expect(response.status).toBe(422);
    expect(response.json.message).toContain('fieldManager: Required value: is required for apply patch');
  });

  it('answers 409 naming the conflicting field when another manager owns it, and force takes it over', async () => {
    const name = uniqueName('ssa-conflict');
    await applyWidget(name, { size: 3 }, 'team-a');
    const conflict = await applyWidget(name, { size: 4 }, 'team-b');
    expect(conflict.status).toBe(409);
    expect(conflict.json.reason).toBe('Conflict');
    expect(conflict.json.details.causes).toEqual([
      expect.objectContaining({
        reason: 'FieldManagerConflict',
        field: '.spec.size',
        message: 'conflict with "team-a"',
      }),
    ]);
    expect(conflict.json.message).toContain('Apply failed with 1 conflict');
    const forced = await applyWidget(name, { size: 4 }, 'team-b', true);
    expect(forced.status).toBe(200);
    expect(forced.json.spec.size).toBe(4);
    const owners = forced.json.metadata.managedFields.filter(
      (m: { fieldsV1: { 'f:spec'?: Record<string, unknown> } }) =>
        Object.hasOwn(m.fieldsV1['f:spec'] ?? {}, 'f:size'),
    );
    expect(owners.map((m: { manager: string }) => m.manager)).toEqual(['team-b']);
  });

  it('shares ownership instead of conflicting when the applied value is the same', async () => {
    const name = uniqueName('ssa-shared');
    await applyWidget(name, { size: 3 }, 'team-a');
    const same = await applyWidget(name, { size: 3 }, 'team-b');
    expect(same.status).toBe(200);
  });

  it('removes fields a manager stops applying, unless another manager owns them', async () => {
    const name = uniqueName('ssa-remove');
    await applyWidget(name, { size: 3, owner: 'alice', maxSize: 10 }, 'team-a');
    await applyWidget(name, { size: 3, maxSize: 10 }, 'team-b');
    const after = await applyWidget(name, { size: 3 }, 'team-a');
    expect(after.json.spec.owner).toBeUndefined();
    expect(after.json.spec.maxSize).toBe(10);
  });

  it('conflicts with fields set by an update from another manager', async () => {
    const name = uniqueName('ssa-vs-update');
    await applyWidget(name, { size: 3 }, 'team-a');
    await rawRequest(kc, 'PATCH', `${widgetsPath()}/${name}?fieldManager=kubectl-edit`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { size: 5 } },
    });
    const conflict = await applyWidget(name, { size: 6 }, 'team-a');
    expect(conflict.status).toBe(409);
    expect(conflict.json.details.causes[0].message).toMatch(/^conflict with "kubectl-edit"/);
  });

  it('merges status conditions per type when two managers apply different conditions', async () => {
    const name = uniqueName('ssa-conditions');
    await createWidget(name);
    const condition = (type: string) => ({
      type,
      status: 'True',
      reason: 'Fine',
      message: '',
      lastTransitionTime: '2025-01-01T00:00:00Z',
    });
    const statusPath = `${widgetsPath()}/${name}/status`;
    const body = (type: string) => ({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Widget',
      metadata: { name },
      status: { conditions: [condition(type)] },
    });
    expect((await apply(statusPath, body('Ready'), 'fieldManager=ready-controller')).status).toBe(200);
    expect((await apply(statusPath, body('Synced'), 'fieldManager=sync-controller')).status).toBe(200);
    const current = await getWidget(name);
    expect(current.status.conditions.map((c: { type: string }) => c.type)).toEqual(['Ready', 'Synced']);
    const cleared = await apply(
      statusPath,
      { ...body('Ready'), status: { conditions: [] } },
      'fieldManager=ready-controller',
    );
    expect(cleared.json.status.conditions.map((c: { type: string }) => c.type)).toEqual(['Synced']);
  });

  it('applies status through CustomObjectsApi with the apply content type and force', async () => {
    const name = uniqueName('ssa-status-client');
    await createWidget(name);
    const applied = await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'Widget',
          metadata: { name },
          status: { phase: 'Applied', observedGeneration: 1 },
        },
        fieldManager: 'widget-operator',
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(applied.status).toEqual({ phase: 'Applied', observedGeneration: 1 });
    const entry = applied.metadata.managedFields.find(
      (m: { manager: string }) => m.manager === 'widget-operator',
    );
    expect(entry).toMatchObject({ operation: 'Apply', subresource: 'status' });
  });

  it('applies through KubernetesObjectApi with the ServerSideApply strategy', async () => {
    const name = uniqueName('ssa-objapi');
    const applied = await objects.patch(
      widget(name, { size: 7 }),
      undefined,
      undefined,
      'objapi-manager',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((applied as unknown as { spec: { size: number } }).spec.size).toBe(7);
  });

  it('merges Deployment containers by name between managers', async () => {
    const name = uniqueName('ssa-deploy');
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
    const base = deployment(name);
    expect((await apply(path, base, 'fieldManager=base')).status).toBe(201);
    const sidecar = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } },
    };
    const merged = await apply(path, sidecar, 'fieldManager=injector');
    expect(merged.status).toBe(200);
    expect(merged.json.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual([
      'app',
      'sidecar',
    ]);
  });
});

// ------------------------------------------------------------------------------------------- schema

describe('custom resource schema', () => {
  it('rejects a value of the wrong type with 422 and a field cause', async () => {
    const name = uniqueName('badtype');
    const { code, status } = await failure(createWidget(name, { size: 'big' }));
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain(`Widget.${GROUP} "${name}" is invalid: `);
    expect(status.message).toContain(
      'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
    );
    expect(status.details?.causes?.[0]).toMatchObject({
      field: 'spec.size',
      reason: 'FieldValueTypeInvalid',
    });
  });

  it('enforces required, enum, pattern, minimum/maximum, maxLength, maxItems and format', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{}, 'spec.size', 'Required value'],
      [{ size: 1, color: 'purple' }, 'spec.color', 'Unsupported value: "purple"'],
      [{ size: 1, owner: 'Alice' }, 'spec.owner', 'should match'],
      [{ size: 0 }, 'spec.size', 'should be greater than or equal to 1'],
      [{ size: 101 }, 'spec.size', 'should be less than or equal to 100'],
      [{ size: 1, owner: 'a'.repeat(21) }, 'spec.owner', ''],
      [{ size: 1, tags: ['a', 'b', 'c', 'd'] }, 'spec.tags', ''],
      [{ size: 1, startAt: 'yesterday' }, 'spec.startAt', ''],
      [{ size: 1, tags: ['a', 'a'] }, 'spec.tags[1]', 'Duplicate value'],
      [{ size: 1, endpoints: [{ name: 'x' }, { name: 'x' }] }, 'spec.endpoints[1]', 'Duplicate value'],
    ];
    for (const [spec, field, text] of cases) {
      const { code, status } = await failure(createWidget(uniqueName('schema'), spec));
      expect(code, JSON.stringify(spec)).toBe(422);
      const cause = status.details?.causes?.find((c) => c.field === field);
      expect(cause, `${field} in ${status.message}`).toBeDefined();
      expect(cause?.message).toContain(text);
    }
  });

  it('accepts null for a nullable field and both forms of an int-or-string', async () => {
    await createWidget(uniqueName('nullable'), { size: 1, note: null, port: 8080 });
    const named = await createWidget(uniqueName('intorstring'), { size: 1, port: 'http' });
    expect(named.spec.port).toBe('http');
    const { code } = await failure(createWidget(uniqueName('badport'), { size: 1, port: true }));
    expect(code).toBe(422);
  });

  it('applies schema defaults on create', async () => {
    const created = await createWidget(uniqueName('defaults'), { size: 2 });
    expect(created.spec.color).toBe('blue');
    expect(created.spec.replicas).toBe(1);
  });

  it('prunes unknown fields but keeps fields under x-kubernetes-preserve-unknown-fields', async () => {
    const created = await createWidget(uniqueName('prune'), {
      size: 2,
      shape: 'round',
      settings: { anything: { goes: true } },
    });
    expect(created.spec.shape).toBeUndefined();
    expect(created.spec.settings).toEqual({ anything: { goes: true } });
  });

  it('refuses unknown fields with 400 under fieldValidation=Strict and warns under Warn', async () => {
    const strict = await rawRequest(kc, 'POST', `${widgetsPath()}?fieldValidation=Strict`, {
      body: widget(uniqueName('strict'), { size: 1, shape: 'round' }),
    });
    expect(strict.status).toBe(400);
    expect(strict.json.message).toContain('strict decoding error: unknown field "spec.shape"');
    const warn = await rawRequest(kc, 'POST', `${widgetsPath()}?fieldValidation=Warn`, {
      body: widget(uniqueName('warn'), { size: 1, shape: 'round' }),
    });
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toContain('unknown field \\"spec.shape\\"');
  });

  it('rejects an object that breaks a CEL rule with the rule message', async () => {
    const { code, status } = await failure(createWidget(uniqueName('cel'), { size: 5, maxSize: 3 }));
    expect(code).toBe(422);
    expect(status.message).toContain('spec: Invalid value: "object": size must not exceed maxSize');
    const byExpression = await failure(createWidget(uniqueName('cel'), { size: 1, owner: 'nobody' }));
    expect(byExpression.status.message).toContain('owner nobody is not allowed');
  });

  it('evaluates transition rules (oldSelf) only on update', async () => {
    const name = uniqueName('transition');
    await createWidget(name, { size: 1, color: 'red' });
    const { code, status } = await failure(
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: 'widgets',
          name,
          body: { spec: { color: 'green' } },
        },
        mergeHeaders,
      ),
    );
    expect(code).toBe(422);
    expect(status.message).toContain('spec.color: Invalid value: "string": color is immutable');
  });
});

// ------------------------------------------------------------------------------------------- built-ins

describe('built-in kind validation', () => {
  it('refuses a Deployment whose selector does not match its template labels', async () => {
    const body = deployment(uniqueName('mismatch'));
    body.spec!.template.metadata = { labels: { app: 'other' } };
    const { code, status } = await failure(apps.createNamespacedDeployment({ namespace: ns, body }));
    expect(code).toBe(422);
    expect(status.message).toContain('`selector` does not match template `labels`');
    expect(status.details?.causes?.[0]?.field).toBe('spec.template.metadata.labels');
  });

  it('refuses a change to a Deployment selector', async () => {
    const name = uniqueName('selector');
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment(name) });
    const response = await rawRequest(kc, 'PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`, {
      contentType: 'application/merge-patch+json',
      body: {
        spec: {
          selector: { matchLabels: { app: name, extra: 'x' } },
          template: { metadata: { labels: { app: name, extra: 'x' } } },
        },
      },
    });
    expect(response.status).toBe(422);
    expect(response.json.message).toContain('spec.selector: Invalid value');
    expect(response.json.message).toContain('field is immutable');
  });

  it('refuses a CronJob with an unparseable schedule', async () => {
    const response = await rawRequest(kc, 'POST', `/apis/batch/v1/namespaces/${ns}/cronjobs`, {
      body: {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: uniqueName('cron') },
        spec: {
          schedule: 'every tuesday',
          jobTemplate: {
            spec: {
              template: {
                spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox:1.36' }] },
              },
            },
          },
        },
      },
    });
    expect(response.status).toBe(422);
    expect(response.json.details.causes.map((c: { field: string }) => c.field)).toEqual(['spec.schedule']);
  });

  it('refuses an events.k8s.io/v1 Event without eventTime and reporting fields', async () => {
    const response = await rawRequest(kc, 'POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: uniqueName('event') },
        note: 'hello',
      },
    });
    expect(response.status).toBe(422);
    const fields = response.json.details.causes.map((c: { field: string }) => c.field);
    expect(fields).toEqual(
      expect.arrayContaining(['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']),
    );
    const accepted = await rawRequest(kc, 'POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: uniqueName('event') },
        eventTime: '2025-01-01T00:00:00.000000Z',
        type: 'Normal',
        reason: 'Reconciled',
        action: 'Reconcile',
        note: 'all good',
        reportingController: 'ledgerhub.io/operator',
        reportingInstance: 'operator-0',
        regarding: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget', name: 'w', namespace: ns },
      },
    });
    expect(accepted.status).toBe(201);
  });
});

// ------------------------------------------------------------------------------------------- watch

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED strictly after the given resourceVersion', async () => {
    const before = await uniqueName('w');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: before } } });
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    const watch = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: list.metadata?.resourceVersion,
    });
    const name = uniqueName('w');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    await core.patchNamespacedConfigMap({ name, namespace: ns, body: { data: { a: 'b' } } }, mergeHeaders);
    await core.deleteNamespacedConfigMap({ name, namespace: ns });
    const events = await watch.waitFor((e) => e.some((x) => x.type === 'DELETED'), 'the delete event');
    watch.stop();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', name],
      ['MODIFIED', name],
      ['DELETED', name],
    ]);
  });

  it('starts with synthetic ADDED events for existing objects when no resourceVersion is given', async () => {
    const tag = uniqueName('initial');
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: `${tag}-a`, labels: { initial: tag } } },
    });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: `${tag}-b`, labels: { initial: tag } } },
    });
    const watch = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: `initial=${tag}` });
    const events = await watch.waitFor((e) => e.length >= 2, 'two initial events');
    watch.stop();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', `${tag}-a`],
      ['ADDED', `${tag}-b`],
    ]);
  });

  it('turns an object leaving the label selector into DELETED and one entering it into ADDED', async () => {
    const tag = uniqueName('leave');
    const name = `${tag}-x`;
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    const watch = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: list.metadata?.resourceVersion,
      labelSelector: `phase=${tag}`,
    });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name, labels: { phase: 'other' } } },
    });
    await core.patchNamespacedConfigMap(
      { name, namespace: ns, body: { metadata: { labels: { phase: tag } } } },
      mergeHeaders,
    );
    await core.patchNamespacedConfigMap(
      { name, namespace: ns, body: { metadata: { labels: { phase: 'gone' } } } },
      mergeHeaders,
    );
    const events = await watch.waitFor((e) => e.length >= 2, 'enter and leave');
    watch.stop();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const watch = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, {
      timeoutSeconds: 1,
      resourceVersion: '0',
    });
    const err = await watch.ended;
    expect(err).toBeNull();
  });

  it('sends BOOKMARK events only when allowWatchBookmarks is set', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    const rv = list.metadata?.resourceVersion;
    const withBookmarks = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: rv,
      allowWatchBookmarks: true,
      timeoutSeconds: 3,
    });
    const without = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: rv,
      timeoutSeconds: 3,
    });
    await Promise.all([withBookmarks.ended, without.ended]);
    const bookmark = withBookmarks.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object.metadata.resourceVersion).toBeTruthy();
    expect(without.events.filter((e) => e.type === 'BOOKMARK')).toEqual([]);
  });

  it('answers 410 Expired for a resourceVersion older than the watch history', async () => {
    const watch = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: '1' });
    const err = (await watch.ended) as { statusCode?: number } | null;
    const expiredEvent = watch.events.find((e) => e.type === 'ERROR');
    if (expiredEvent) {
      expect(expiredEvent.object).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    } else {
      expect(err?.statusCode).toBe(410);
    }
  });

  it('feeds an informer (makeInformer) with add, update and delete', async () => {
    const tag = uniqueName('informer');
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${ns}/widgets`;
    // biome-ignore lint/suspicious/noExplicitAny: custom resources are untyped here
    const informer = makeInformer<any>(
      kc,
      path,
      () =>
        custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: 'widgets',
          labelSelector: `informer=${tag}`,
        }),
      `informer=${tag}`,
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add:${o.metadata.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata.name}:${o.spec.size}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata.name}`));
    await informer.start();
    const name = `${tag}-w`;
    await createWidget(name, { size: 1 }, { labels: { informer: tag } });
    await eventually(() => seen.includes(`add:${name}`), { description: 'informer add' });
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: ns, plural: 'widgets', name, body: { spec: { size: 2 } } },
      mergeHeaders,
    );
    await eventually(() => seen.includes(`update:${name}:2`), { description: 'informer update' });
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      name,
    });
    await eventually(() => seen.includes(`delete:${name}`), { description: 'informer delete' });
    expect(informer.get(name, ns)).toBeUndefined();
    await informer.stop();
  });
});

// ------------------------------------------------------------------------------------------- deletion

describe('finalizers and deletion', () => {
  it('answers a delete without finalizers with a Success Status', async () => {
    const name = uniqueName('plain-delete');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    const response = await rawRequest(kc, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/${name}`);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name, kind: 'configmaps' },
    });
  });

  it('keeps an object with finalizers after delete, with deletionTimestamp, until the last finalizer goes', async () => {
    const name = uniqueName('finalized');
    const created = await createWidget(name, { size: 1 }, { finalizers: ['example.com/cleanup'] });
    const watch = await openWatch(widgetsPath(), {
      resourceVersion: created.metadata.resourceVersion,
      fieldSelector: `metadata.name=${name}`,
    });
    const deleted = await rawRequest(kc, 'DELETE', `${widgetsPath()}/${name}`);
    expect([200, 202]).toContain(deleted.status);
    expect(deleted.json.metadata.deletionTimestamp).toBeTruthy();
    const pending = await getWidget(name);
    expect(pending.metadata.deletionTimestamp).toBeTruthy();
    expect(pending.metadata.deletionGracePeriodSeconds).toBe(0);
    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: { metadata: { finalizers: null } },
      },
      mergeHeaders,
    );
    const events = await watch.waitFor((e) => e.some((x) => x.type === 'DELETED'), 'the final delete');
    watch.stop();
    expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    const { code } = await failure(getWidget(name));
    expect(code).toBe(404);
  });

  it('refuses to add a finalizer once deletion has started with 422', async () => {
    const name = uniqueName('late-finalizer');
    await createWidget(name, { size: 1 }, { finalizers: ['example.com/cleanup'] });
    await rawRequest(kc, 'DELETE', `${widgetsPath()}/${name}`);
    const { code, status } = await failure(
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: 'widgets',
          name,
          body: { metadata: { finalizers: ['example.com/cleanup', 'example.com/late'] } },
        },
        mergeHeaders,
      ),
    );
    expect(code).toBe(422);
    expect(status.message).toContain(
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted',
    );
    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: { metadata: { finalizers: null } },
      },
      mergeHeaders,
    );
  });
});

// ------------------------------------------------------------------------------------------- GC

describe('owner references and garbage collection', () => {
  async function ownerAndDependent() {
    const owner = await createWidget(uniqueName('owner'));
    const dependentName = uniqueName('dependent');
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: dependentName,
          ownerReferences: [
            {
              apiVersion: `${GROUP}/${VERSION}`,
              kind: 'Widget',
              name: owner.metadata.name,
              uid: owner.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      },
    });
    return { owner: owner.metadata.name as string, dependent: dependentName };
  }

  it('deletes dependents in the background when their owner is deleted', async () => {
    const { owner, dependent } = await ownerAndDependent();
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      name: owner,
    });
    await eventually(
      async () =>
        (await failure(core.readNamespacedConfigMap({ name: dependent, namespace: ns }))).code === 404,
      {
        description: 'the dependent to be collected',
      },
    );
  });

  it('orphans dependents with propagationPolicy=Orphan by removing the owner reference', async () => {
    const { owner, dependent } = await ownerAndDependent();
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      name: owner,
      propagationPolicy: 'Orphan',
    });
    await eventually(async () => (await failure(getWidget(owner))).code === 404, {
      description: 'the owner to go',
    });
    const orphan = await core.readNamespacedConfigMap({ name: dependent, namespace: ns });
    expect(orphan.metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('holds a foreground-deleted owner until its blocking dependents are gone', async () => {
    const { owner, dependent } = await ownerAndDependent();
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'widgets',
      name: owner,
      propagationPolicy: 'Foreground',
    });
    await eventually(async () => (await failure(getWidget(owner))).code === 404, {
      description: 'the owner to go',
    });
    const { code } = await failure(core.readNamespacedConfigMap({ name: dependent, namespace: ns }));
    expect(code).toBe(404);
  });
});

// ------------------------------------------------------------------------------------------- tables

describe('Table output for kubectl', () => {
  const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

  it('renders custom resources with NAME first and the CRD printer columns, typed', async () => {
    const name = uniqueName('table');
    await createWidget(name, { size: 4, color: 'green', owner: 'bob' });
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'widgets',
        name,
        body: {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'Ok',
                message: '',
                lastTransitionTime: '2025-01-01T00:00:00Z',
              },
            ],
          },
        },
      },
      mergeHeaders,
    );
    const table = await rawRequest(kc, 'GET', `${widgetsPath()}/${name}`, { accept: TABLE });
    expect(table.json.kind).toBe('Table');
    const columns = table.json.columnDefinitions.map(
      (c: { name: string; type: string; priority: number }) => [c.name, c.type, c.priority],
    );
    expect(columns).toEqual([
      ['Name', 'string', 0],
      ['Size', 'integer', 0],
      ['Color', 'string', 0],
      ['Ready', 'string', 0],
      ['Owner', 'string', 1],
      ['Age', 'date', 0],
    ]);
    const [row] = table.json.rows;
    expect(row.cells.slice(0, 5)).toEqual([name, 4, 'green', 'True', 'bob']);
    expect(row.object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name } });
  });

  it('renders built-in ConfigMaps with Name, Data and Age', async () => {
    const name = uniqueName('cmtable');
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name }, data: { a: '1', b: '2' } },
    });
    const table = await rawRequest(
      kc,
      'GET',
      `/api/v1/namespaces/${ns}/configmaps?fieldSelector=metadata.name=${name}`,
      { accept: TABLE },
    );
    expect(table.json.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
      'Name',
      'Data',
      'Age',
    ]);
    expect(table.json.rows[0].cells.slice(0, 2)).toEqual([name, 2]);
  });

  it('serves metadata-only lists as PartialObjectMetadataList', async () => {
    const name = uniqueName('partial');
    await createWidget(name, { size: 3 });
    const list = await rawRequest(kc, 'GET', `${widgetsPath()}?fieldSelector=metadata.name=${name}`, {
      accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json',
    });
    expect(list.json.kind).toBe('PartialObjectMetadataList');
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0]).toMatchObject({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name },
    });
    expect(list.json.items[0].spec).toBeUndefined();
  });

  it('includes the full object in rows with includeObject=Object', async () => {
    const name = uniqueName('fullrow');
    await createWidget(name, { size: 9 });
    const table = await rawRequest(kc, 'GET', `${widgetsPath()}/${name}?includeObject=Object`, {
      accept: TABLE,
    });
    expect(table.json.rows[0].object.spec.size).toBe(9);
  });
});
