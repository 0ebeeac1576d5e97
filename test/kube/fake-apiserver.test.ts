// The fake apiserver's own knobs, which a real cluster does not have: fault switches, the request log,
// in-process access, the history bound, the gc switch, and the in-process controllers (namespace and
// CRD cleanup). API semantics shared with real clusters live in apiserver-conformance.test.ts.
import { readFileSync } from 'node:fs';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  applyCrdYaml,
  type FakeKubeApiServer,
  startFakeKubeApiServer,
} from '../support/kube-apiserver/index.ts';
import { eventually } from './eventually.ts';
import { rawRequest } from './raw-request.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const mergeHeaders = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let fake: FakeKubeApiServer;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let counter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${++counter}`;

function clientFor(server: FakeKubeApiServer): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions(server.kubeConfigOptions());
  return config;
}

beforeAll(async () => {
  fake = await startFakeKubeApiServer();
  kc = clientFor(fake);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  applyCrdYaml(fake, fixture('widget-crd.yaml'));
});

afterEach(() => fake.faults.clear());
afterAll(() => fake.stop());

async function failureCode(
  call: Promise<unknown>,
): Promise<{ code: number; headers: Record<string, string>; body: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, headers: err.headers, body: String(err.body) };
    throw err;
  }
  throw new Error('expected the request to fail');
}

async function openWatch(
  server: FakeKubeApiServer,
  path: string,
  query: Record<string, string | number | boolean>,
) {
  const events: { type: string; name: string }[] = [];
  let resolveEnded!: (err: unknown) => void;
  const ended = new Promise<unknown>((resolve) => {
    resolveEnded = resolve;
  });
  const controller = await new Watch(clientFor(server)).watch(
    path,
    query,
    (type, object) => events.push({ type, name: object?.metadata?.name }),
    (err) => resolveEnded(err ?? null),
  );
  return { events, ended, stop: () => controller.abort() };
}

describe('fault switches', () => {
  it('fails the next matching request with the injected status, then recovers', async () => {
    fake.faults.failNext({ verb: 'list', resource: 'configmaps', status: 500, message: 'etcd is on fire' });
    const failed = await failureCode(core.listNamespacedConfigMap({ namespace: 'default' }));
    expect(failed.code).toBe(500);
    expect(JSON.parse(failed.body)).toMatchObject({
      kind: 'Status',
      reason: 'InternalError',
      message: 'etcd is on fire',
    });
    const ok = await core.listNamespacedConfigMap({ namespace: 'default' });
    expect(ok.kind).toBe('ConfigMapList');
  });

  it('fails N requests and only those matching verb and resource', async () => {
    const name = uniqueName('conflicted');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    fake.faults.failNext({ verb: 'patch', resource: 'configmaps', status: 409, count: 2 });
    const patch = () =>
      core.patchNamespacedConfigMap({ name, namespace: 'default', body: { data: { a: '1' } } }, mergeHeaders);
    expect((await failureCode(patch())).code).toBe(409);
    await core.readNamespacedConfigMap({ name, namespace: 'default' });
    expect((await failureCode(patch())).code).toBe(409);
    const patched = await patch();
    expect(patched.data).toEqual({ a: '1' });
  });

  it('answers 429 with Retry-After when asked to throttle', async () => {
    fake.faults.failNext({ path: '/api/v1/namespaces/default/secrets', status: 429, retryAfterSeconds: 2 });
    const response = await rawRequest(kc, 'GET', '/api/v1/namespaces/default/secrets');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.json).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 } });
  });

  it('adds latency to matching requests', async () => {
    fake.faults.addLatency(150, { resource: 'configmaps' });
    const started = performance.now();
    await core.listNamespacedConfigMap({ namespace: 'default' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('drops open watch streams cleanly, or by resetting the connection', async () => {
    const clean = await openWatch(fake, '/api/v1/namespaces/default/configmaps', {
      resourceVersion: fake.revision(),
    });
    await eventually(() => fake.openWatches() >= 1, { description: 'the watch to open' });
    expect(fake.faults.dropWatches()).toBeGreaterThanOrEqual(1);
    expect(await clean.ended).toBeNull();
    const reset = await openWatch(fake, '/api/v1/namespaces/default/configmaps', {
      resourceVersion: fake.revision(),
    });
    await eventually(() => fake.openWatches() >= 1, { description: 'the watch to open' });
    fake.faults.dropWatches({ mode: 'reset' });
    expect(await reset.ended).toBeInstanceOf(Error);
    expect(fake.openWatches()).toBe(0);
  });

  it('stalls watch streams (open, silent) until resumed', async () => {
    const watch = await openWatch(fake, '/api/v1/namespaces/default/configmaps', {
      resourceVersion: fake.revision(),
    });
    fake.faults.stallWatches();
    const lost = uniqueName('lost');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: lost } } });
    expect(fake.openWatches()).toBe(1);
    fake.faults.resumeWatches();
    const seen = uniqueName('seen');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: seen } } });
    await eventually(() => watch.events.some((e) => e.name === seen), {
      description: 'the event after resume',
    });
    watch.stop();
    expect(watch.events.map((e) => e.name)).toEqual([seen]);
  });

  it('expires the next watch with an in-stream 410 ERROR event, or an HTTP 410', async () => {
    fake.faults.expireNextWatches(1);
    const inStream = await rawRequest(
      kc,
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${fake.revision()}`,
    );
    expect(inStream.status).toBe(200);
    expect(JSON.parse(inStream.text.trim())).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', reason: 'Expired', code: 410 },
    });
    fake.faults.expireNextWatches(1, { as: 'http' });
    const http = await rawRequest(
      kc,
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${fake.revision()}`,
    );
    expect(http.status).toBe(410);
    expect(http.json.reason).toBe('Expired');
  });

  it('makes an informer relist after a forced 410, and keep delivering changes', async () => {
    for (const as of ['event', 'http'] as const) {
      let lists = 0;
      const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/default/configmaps', () => {
        lists++;
        return core.listNamespacedConfigMap({ namespace: 'default' });
      });
      const added: string[] = [];
      informer.on('add', (cm) => added.push(cm.metadata?.name ?? ''));
      await informer.start();
      await eventually(() => fake.openWatches() >= 1, { description: 'the informer watch' });
      fake.faults.expireNextWatches(1, { as });
      fake.faults.dropWatches();
      await eventually(() => lists >= 2, { description: `a relist after 410 (${as})` });
      const later = uniqueName('after-relist');
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: later } } });
      await eventually(() => added.includes(later), { description: 'a change after the relist' });
      await informer.stop();
    }
  });

  it('compacts watch history so a resumed watch gets 410', async () => {
    const rv = fake.revision();
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: uniqueName('compact') } },
    });
    fake.faults.compactHistory('configmaps');
    const response = await rawRequest(
      kc,
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`,
    );
    expect(JSON.parse(response.text.trim())).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('expires continue tokens on request', async () => {
    for (let i = 0; i < 3; i++) {
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: uniqueName('page') } },
      });
    }
    const first = await core.listNamespacedConfigMap({ namespace: 'default', limit: 1 });
    fake.faults.expireContinueTokens();
    const { code, body } = await failureCode(
      core.listNamespacedConfigMap({ namespace: 'default', limit: 1, _continue: first.metadata?._continue }),
    );
    expect(code).toBe(410);
    expect(JSON.parse(body).reason).toBe('Expired');
  });
});

describe('legacy watch paths', () => {
  it('serves /watch/ paths like ?watch=true', async () => {
    const name = uniqueName('legacy');
    const rv = fake.revision();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    const response = await rawRequest(
      kc,
      'GET',
      `/api/v1/watch/namespaces/default/configmaps/${name}?resourceVersion=${rv}&timeoutSeconds=1`,
    );
    const events = response.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', name]]);
  });
});

describe('request log', () => {
  it('counts requests per verb and per resource', async () => {
    fake.requests.reset();
    const name = uniqueName('counted');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    await core.readNamespacedConfigMap({ name, namespace: 'default' });
    await core.listNamespacedConfigMap({ namespace: 'default' });
    await core.patchNamespacedConfigMap(
      { name, namespace: 'default', body: { data: { a: 'b' } } },
      mergeHeaders,
    );
    await core.deleteNamespacedConfigMap({ name, namespace: 'default' });
    expect(fake.requests.total()).toBe(5);
    expect(fake.requests.byVerb()).toEqual({ create: 1, get: 1, list: 1, patch: 1, delete: 1 });
    expect(fake.requests.byResource()).toEqual({ configmaps: 5 });
    expect(fake.requests.entries({ verb: 'patch' })[0]).toMatchObject({
      namespace: 'default',
      name,
      code: 200,
    });
  });

  it('counts only writes, optionally since a timestamp', async () => {
    const name = uniqueName('writes');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    const createdAt = fake.requests.entries().at(-1)!.time;
    // the window starts on a later millisecond than the create arrived in
    const since = await eventually(() => Date.now() > createdAt && Date.now(), {
      description: 'the clock to move on',
    });
    const before = fake.requests.writes();
    await core.readNamespacedConfigMap({ name, namespace: 'default' });
    await core.patchNamespacedConfigMap(
      { name, namespace: 'default', body: { data: { a: 'b' } } },
      mergeHeaders,
    );
    expect(fake.requests.writes()).toBe(before + 1);
    expect(fake.requests.writes(since)).toBe(1);
    expect(fake.requests.count({ verb: 'patch', resource: 'configmaps', sinceMs: since })).toBe(1);
  });

  it('does not count in-process access', async () => {
    fake.requests.reset();
    fake.upsert({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: uniqueName('inproc'), namespace: 'default' },
    });
    fake.list('v1', 'ConfigMap', 'default');
    expect(fake.requests.total()).toBe(0);
  });
});

describe('in-process access', () => {
  it('reads objects as clients see them, with schema defaults', async () => {
    const name = uniqueName('direct');
    await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec: { size: 2 } },
    });
    const read = fake.get('example.com/v1', 'Widget', 'default', name) as { spec: { color: string } };
    expect(read.spec.color).toBe('blue');
    expect(fake.get('example.com/v1', 'Widget', 'default', 'nope')).toBeUndefined();
    expect(
      (fake.list('example.com/v1', 'Widget') as { metadata: { name: string } }[]).map((w) => w.metadata.name),
    ).toContain(name);
  });

  it('sets Deployment status through the status subresource, visible to watchers', async () => {
    const name = uniqueName('web');
    const created = fake.upsert({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
        },
      },
    }) as { metadata: { resourceVersion: string } };
    const watch = await openWatch(fake, '/apis/apps/v1/namespaces/default/deployments', {
      resourceVersion: created.metadata.resourceVersion,
    });
    const updated = fake.setStatus('apps/v1', 'Deployment', 'default', name, {
      availableReplicas: 1,
      readyReplicas: 1,
      replicas: 1,
    }) as {
      status: { availableReplicas: number };
      metadata: { generation: number };
    };
    expect(updated.status.availableReplicas).toBe(1);
    expect(updated.metadata.generation).toBe(1);
    await eventually(() => watch.events.some((e) => e.type === 'MODIFIED' && e.name === name), {
      description: 'the status event',
    });
    watch.stop();
  });

  it('refuses invalid objects in upsert like any client write', () => {
    expect(() =>
      fake.upsert({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'bad', namespace: 'default' },
        spec: { size: 0 },
      }),
    ).toThrow(/spec.size in body should be greater than or equal to 1/);
  });
});

describe('watch history bound', () => {
  it('answers 410 for a resourceVersion older than the configured history', async () => {
    const small = await startFakeKubeApiServer({ watchHistory: 3 });
    try {
      const smallCore = clientFor(small).makeApiClient(CoreV1Api);
      const start = small.revision();
      for (let i = 0; i < 5; i++)
        await smallCore.createNamespacedConfigMap({
          namespace: 'default',
          body: { metadata: { name: `h${i}` } },
        });
      const expired = await rawRequest(
        clientFor(small),
        'GET',
        `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${start}`,
      );
      expect(JSON.parse(expired.text.trim())).toMatchObject({
        type: 'ERROR',
        object: { reason: 'Expired', code: 410 },
      });
      const recent = await smallCore.listNamespacedConfigMap({ namespace: 'default' });
      const watch = await openWatch(small, '/api/v1/namespaces/default/configmaps', {
        resourceVersion: recent.metadata?.resourceVersion ?? '',
      });
      await smallCore.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'h5' } } });
      await eventually(() => watch.events.some((e) => e.name === 'h5'), {
        description: 'a watch within history',
      });
      watch.stop();
    } finally {
      await small.stop();
    }
  });
});

describe('garbage collection switch', () => {
  it('leaves dependents alone when gc is off, as envtest does', async () => {
    const noGc = await startFakeKubeApiServer({ gc: false });
    try {
      const owner = noGc.upsert({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'owner', namespace: 'default' },
      }) as {
        metadata: { uid: string };
      };
      noGc.upsert({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'dependent',
          namespace: 'default',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
        },
      });
      await clientFor(noGc)
        .makeApiClient(CoreV1Api)
        .deleteNamespacedConfigMap({ name: 'owner', namespace: 'default' });
      await noGc.settled();
      expect(noGc.get('v1', 'ConfigMap', 'default', 'dependent')).toBeDefined();
    } finally {
      await noGc.stop();
    }
  });

  it('collects an object whose owner never existed', async () => {
    const name = uniqueName('dangling');
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: {
        metadata: {
          name,
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'ghost',
              uid: '00000000-0000-0000-0000-000000000000',
            },
          ],
        },
      },
    });
    await fake.settled();
    expect(fake.get('v1', 'ConfigMap', 'default', name)).toBeUndefined();
  });
});

describe('in-process controllers', () => {
  it('empties a deleted namespace, refuses new content while it terminates, then removes it', async () => {
    const ns = uniqueName('doomed');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'content' } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } },
    });
    const deleted = await rawRequest(kc, 'DELETE', `/api/v1/namespaces/${ns}`);
    expect(deleted.json.status.phase).toBe('Terminating');
    await fake.settled();
    expect(fake.get('v1', 'ConfigMap', ns, 'content')).toBeUndefined();
    const refused = await failureCode(
      core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'late' } } }),
    );
    expect(refused.code).toBe(403);
    expect(JSON.parse(refused.body).message).toContain(
      `unable to create new content in namespace ${ns} because it is being terminated`,
    );
    expect(fake.get('v1', 'Namespace', undefined, ns)).toBeDefined();
    await core.patchNamespacedConfigMap(
      { name: 'held', namespace: ns, body: { metadata: { finalizers: null } } },
      mergeHeaders,
    );
    await fake.settled();
    expect(fake.get('v1', 'Namespace', undefined, ns)).toBeUndefined();
  });

  it('deletes every instance of a deleted CRD and stops serving it', async () => {
    const server = await startFakeKubeApiServer();
    try {
      const client = clientFor(server);
      applyCrdYaml(server, fixture('gadget-crd.yaml'));
      server.upsert({
        apiVersion: 'example.com/v1',
        kind: 'Gadget',
        metadata: { name: 'g1' },
        spec: { model: 'x' },
      });
      const deleted = await rawRequest(
        client,
        'DELETE',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com',
      );
      expect(deleted.status).toBe(200);
      await server.settled();
      expect(
        (
          await rawRequest(
            client,
            'GET',
            '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com',
          )
        ).status,
      ).toBe(404);
      expect((await rawRequest(client, 'GET', '/apis/example.com/v1/gadgets')).status).toBe(404);
      expect((await rawRequest(client, 'GET', '/apis/example.com/v1')).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
