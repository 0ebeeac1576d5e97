// kubectl (v1.32) against the fake apiserver over plain http: client-side apply of a CRD, custom
// resources and built-in kinds (merge and strategic merge patches), kubectl get with server-side
// printing and -o yaml, schema and unknown-field refusals as kubectl reports them, and kubectl delete.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type FakeKubeApiServer, startFakeKubeApiServer } from '../support/kube-apiserver/index.ts';

const KUBECTL = '/usr/bin/kubectl';
const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let fake: FakeKubeApiServer;
let scratch: string;

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl asynchronously (the fake serves from this process, so a blocking call would hang). */
function kubectl(...args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      [
        '--kubeconfig',
        fake.kubeconfigPath,
        '--cache-dir',
        join(scratch, 'cache'),
        '--request-timeout',
        '20s',
        ...args,
      ],
      { env: { ...process.env, KUBECONFIG: fake.kubeconfigPath, HOME: scratch } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Writes a variant of a fixture (YAML documents edited by `edit`) into the scratch dir. */
function variant(fixture: string, file: string, edit: (text: string) => string): string {
  const path = join(scratch, file);
  writeFileSync(path, edit(readFileSync(fixturePath(fixture), 'utf8')));
  return path;
}

beforeAll(async () => {
  fake = await startFakeKubeApiServer();
  scratch = mkdtempSync(join(tmpdir(), 'kubectl-test-'));
});

afterAll(async () => {
  await fake.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('kubectl against the fake apiserver', () => {
  it('installs a CRD with kubectl apply and then serves its resources', async () => {
    const applied = await kubectl('apply', '-f', fixturePath('widget-crd.yaml'));
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim()).toBe(
      'customresourcedefinition.apiextensions.k8s.io/widgets.example.com created',
    );
    const resources = await kubectl('api-resources', '--api-group=example.com');
    expect(resources.stdout).toMatch(/widgets\s+wdg\s+example\.com\/v1\s+true\s+Widget/);
  });

  it('creates, leaves unchanged and reconfigures a custom resource with kubectl apply', async () => {
    const created = await kubectl('apply', '-f', fixturePath('widget-valid.yaml'));
    expect(created.stdout.trim()).toBe('widget.example.com/kubectl-widget created');
    const unchanged = await kubectl('apply', '-f', fixturePath('widget-valid.yaml'));
    expect(unchanged.stdout.trim()).toBe('widget.example.com/kubectl-widget unchanged');
    const resized = variant('widget-valid.yaml', 'widget-resized.yaml', (t) =>
      t.replace('size: 3', 'size: 4'),
    );
    const configured = await kubectl('apply', '-f', resized);
    expect(configured.stdout.trim()).toBe('widget.example.com/kubectl-widget configured');
    const stored = fake.get('example.com/v1', 'Widget', 'default', 'kubectl-widget') as {
      spec: { size: number };
      metadata: { generation: number; annotations: Record<string, string> };
    };
    expect(stored.spec.size).toBe(4);
    expect(stored.metadata.generation).toBe(2);
    expect(
      JSON.parse(stored.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']!).spec.size,
    ).toBe(4);
  });

  it('prints custom resources with the CRD printer columns', async () => {
    fake.setStatus('example.com/v1', 'Widget', 'default', 'kubectl-widget', {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ok',
          message: '',
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    });
    const table = await kubectl('get', 'widgets');
    const [header, row] = table.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'SIZE', 'COLOR', 'READY', 'AGE']);
    expect(row).toMatch(/^kubectl-widget\s+4\s+red\s+True\s+\d+s$/);
    const wide = await kubectl('get', 'wdg', '-o', 'wide');
    expect(wide.stdout.split('\n')[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'SIZE',
      'COLOR',
      'READY',
      'OWNER',
      'AGE',
    ]);
  });

  it('prints the stored object, defaults included, with kubectl get -o yaml', async () => {
    const result = await kubectl('get', 'widget', 'kubectl-widget', '-o', 'yaml');
    const object = parse(result.stdout);
    expect(object).toMatchObject({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'kubectl-widget', namespace: 'default', labels: { app: 'kubectl-test' } },
      spec: { size: 4, color: 'red', owner: 'alice', replicas: 1 },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a resource that violates the schema, showing the validation messages', async () => {
    const result = await kubectl('apply', '-f', fixturePath('widget-invalid.yaml'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('The Widget "kubectl-bad-widget" is invalid');
    expect(result.stderr).toContain(
      'spec.size: Invalid value: 500: spec.size in body should be less than or equal to 100',
    );
    expect(result.stderr).toContain(
      'spec.color: Unsupported value: "purple": supported values: "red", "green", "blue"',
    );
    expect(fake.get('example.com/v1', 'Widget', 'default', 'kubectl-bad-widget')).toBeUndefined();
  });

  it('refuses unknown fields, since kubectl asks for strict server-side field validation', async () => {
    const result = await kubectl('apply', '-f', fixturePath('widget-unknown-field.yaml'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown field "spec.shape"');
    const lenient = await kubectl(
      'apply',
      '--validate=false',
      '-f',
      fixturePath('widget-unknown-field.yaml'),
    );
    expect(lenient.stdout.trim()).toBe('widget.example.com/kubectl-unknown-widget created');
    const stored = fake.get('example.com/v1', 'Widget', 'default', 'kubectl-unknown-widget') as {
      spec: Record<string, unknown>;
    };
    expect(stored.spec['shape']).toBeUndefined();
  });

  it('applies built-in kinds with strategic merge patches that keep list items by name', async () => {
    const created = await kubectl('apply', '-f', fixturePath('deployment.yaml'));
    expect(created.stdout.trim().split('\n')).toEqual([
      'deployment.apps/kubectl-web created',
      'configmap/kubectl-settings created',
    ]);
    const changed = variant('deployment.yaml', 'deployment-changed.yaml', (t) =>
      t
        .replace('image: busybox:1.36', 'image: busybox:1.37')
        .replace(/\n {10}env:\n {12}- name: MODE\n {14}value: blue/, '')
        .replace('mode: blue', 'mode: green'),
    );
    const configured = await kubectl('apply', '-f', changed);
    expect(configured.stdout.trim().split('\n')).toEqual([
      'deployment.apps/kubectl-web configured',
      'configmap/kubectl-settings configured',
    ]);
    const deployment = fake.get('apps/v1', 'Deployment', 'default', 'kubectl-web') as {
      spec: { template: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } } };
      metadata: { generation: number };
    };
    const containers = deployment.spec.template.spec.containers;
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['web', 'nginx:1.27'],
      ['sidecar', 'busybox:1.37'],
    ]);
    expect(containers[0]?.env).toBeUndefined();
    expect(deployment.metadata.generation).toBe(2);
    expect(
      (fake.get('v1', 'ConfigMap', 'default', 'kubectl-settings') as { data: Record<string, string> }).data,
    ).toEqual({ mode: 'green' });
    const table = await kubectl('get', 'deployments');
    expect(table.stdout.split('\n')[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'READY',
      'UP-TO-DATE',
      'AVAILABLE',
      'AGE',
    ]);
  });

  it('deletes custom resources and the CRD with kubectl delete', async () => {
    const deleted = await kubectl('delete', 'widget', 'kubectl-widget');
    expect(deleted.stdout.trim()).toBe('widget.example.com "kubectl-widget" deleted');
    const missing = await kubectl('get', 'widget', 'kubectl-widget');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(
      'Error from server (NotFound): widgets.example.com "kubectl-widget" not found',
    );
    const crd = await kubectl('delete', '-f', fixturePath('widget-crd.yaml'));
    expect(crd.stdout.trim()).toBe(
      'customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted',
    );
    expect(
      fake.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'widgets.example.com'),
    ).toBeUndefined();
    expect(() => fake.list('example.com/v1', 'Widget')).toThrow(/does not serve Widget/);
  });
});
