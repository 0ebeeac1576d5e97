// The objects a policy owns, as pure functions of the policy: each role's pod environment loads (with the
// role's own loadConfig) exactly the configuration the policy asks for; pods are restricted; checksums
// move only the workloads whose configuration or Secrets changed.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type KeyDef, type Keys, loadConfig } from '../../ledger/config/keys.ts';
import { IMAGE_CLI } from '../../ledger/runtime/node-options.ts';
import { ForwarderSinkEntry, parseSinksFile } from '../../ledger/sinks/sinks-file.ts';
import { AuditPolicySpec, type AuditPolicySpecInput } from '../../operator/api/audit-policy.ts';
import { ANNOTATION_CHECKSUM, POLICY_NAME_MAX } from '../../operator/desired/names.ts';
import { type PolicyObjectInputs, policyObjects } from '../../operator/desired/policy-objects.ts';
import { ROLE_KEYS, type Role } from '../../operator/desired/role-env.ts';
import { containerEnvironment, materializeVolumes, type ObjectSource } from './pod-env.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary Kubernetes JSON
type Json = any;

const scratch = mkdtempSync(join(tmpdir(), 'desired-state-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const checkpointPem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const SECRETS: Record<string, Record<string, string>> = {
  ledger: {
    redis: 'redis://redis.example:6379',
    postgres: 'postgres://ledgerhub:pw@pg.example:5432/audit',
    hmac: 'cd'.repeat(32),
  },
  api: { tokens: '[]' },
  signing: { key: checkpointPem },
  s3: { id: 'AKIAEXAMPLE', secret: 's3cr3t' },
  hook: { secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` },
};

const FULL: AuditPolicySpecInput = {
  mode: 'production',
  logLevel: 'debug',
  ledger: {
    redisUrl: { name: 'ledger', key: 'redis' },
    postgresUrl: { name: 'ledger', key: 'postgres' },
    hmacKey: { name: 'ledger', key: 'hmac' },
    stream: 'audit.events',
    dlqStream: 'audit.events.dlq',
  },
  ingestion: {
    replicas: 3,
    batchSize: 250,
    resources: { requests: { cpu: '500m' }, limits: { memory: '1Gi' } },
  },
  api: { tokens: { name: 'api', key: 'tokens' } },
  retention: { days: 30, schedule: '0 2 * * *' },
  export: {
    schedule: '5 * * * *',
    formats: ['ndjson'],
    destination: {
      s3: {
        bucket: 'audit-archive',
        endpoint: 'https://s3.example.com',
        accessKeyId: { name: 's3', key: 'id' },
        secretAccessKey: { name: 's3', key: 'secret' },
      },
    },
  },
  integrity: { checkpointKey: { name: 'signing', key: 'key' } },
  sinks: [{ sinkRef: { name: 'hook' }, route: { decisions: ['deny'] } }],
};

const hookEntry = ForwarderSinkEntry.parse({
  name: 'hook',
  spec: {
    type: 'webhook',
    webhook: { endpoint: 'https://siem.example/h', signingSecret: { name: 'hook', key: 'secret' } },
  },
  route: { decisions: ['deny'] },
});

function inputs(spec: AuditPolicySpecInput, overrides: Partial<PolicyObjectInputs> = {}): PolicyObjectInputs {
  return {
    policy: { name: 'prod', namespace: 'audit', uid: 'uid-1' },
    spec: AuditPolicySpec.parse(spec),
    image: 'ghcr.io/ledgerhub/ledgerhub:1.0.0',
    sinks: spec.sinks?.length ? [hookEntry] : [],
    secretHashes: new Map([
      ['ledger/hmac', 'h1'],
      ['hook/secret', 's1'],
    ]),
    ...overrides,
  };
}

function byName(objects: Json[], name: string): Json {
  const found = objects.find((o) => o.metadata.name === name);
  if (!found) throw new Error(`${name} not rendered; have ${objects.map((o) => o.metadata.name).join(', ')}`);
  return found;
}

function podOf(obj: Json): Json {
  return obj.kind === 'CronJob' ? obj.spec.jobTemplate.spec.template.spec : obj.spec.template.spec;
}

function source(objects: Json[]): ObjectSource {
  return {
    configMap: (name) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)?.data,
    secret: (name) => SECRETS[name],
  };
}

/** Loads a role's configuration from what its container in `obj` would see. */
function loadFromPod(objects: Json[], obj: Json, role: Role, containerName = role) {
  const pod = podOf(obj);
  const container = [...(pod.initContainers ?? []), ...pod.containers].find(
    (c: Json) => c.name === containerName,
  );
  const dirs = materializeVolumes(pod, source(objects), mkdtempSync(join(scratch, `${obj.metadata.name}-`)));
  const { env, args } = containerEnvironment(container, source(objects), dirs);
  return { args, env, config: loadConfig(role, ROLE_KEYS[role] as Keys, env) as Json };
}

describe('policy objects', () => {
  const objects = policyObjects(inputs(FULL)) as Json[];

  it('renders the ConfigMaps, Deployments, the API Service and the CronJobs of a full policy', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/prod-config',
      'ConfigMap/prod-sinks',
      'Deployment/prod-worker',
      'Deployment/prod-forwarder',
      'Deployment/prod-api',
      'Deployment/prod-sweeper',
      'Service/prod-api',
      'CronJob/prod-retention',
      'CronJob/prod-export',
      'CronJob/prod-verify',
    ]);
  });

  it('runs the worker and export as node with their GC flags on the CLI; every other role through the image entrypoint', () => {
    const commands = objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'CronJob')
      .flatMap((o) => podOf(o).containers.map((c: Json) => [c.name, c.command ?? null]));
    expect(Object.fromEntries(commands)).toEqual({
      worker: ['node', '--single-threaded-gc', IMAGE_CLI],
      forwarder: null,
      api: null,
      sweeper: null,
      retention: null,
      export: ['node', '--single-threaded-gc', '--initial-old-space-size=64', IMAGE_CLI],
      verify: null,
    });
  });

  it('gives each role, through its pod, exactly the configuration the policy asks for', () => {
    const worker = loadFromPod(objects, byName(objects, 'prod-worker'), 'worker');
    expect(worker.args).toEqual(['worker']);
    expect(worker.config).toMatchObject({
      redisUrl: 'redis://redis.example:6379',
      databaseUrl: 'postgres://ledgerhub:pw@pg.example:5432/audit',
      dbRole: 'ledgerhub_ingest',
      stream: 'audit.events',
      dlqStream: 'audit.events.dlq',
      batchSize: 250,
      port: 9090,
      mode: 'production',
      logLevel: 'debug',
    });
    expect(worker.config.hmacKey).not.toBeNull();

    const api = loadFromPod(objects, byName(objects, 'prod-api'), 'api');
    expect(api.config).toMatchObject({
      port: 8080,
      dbRole: 'ledgerhub_reader',
      retentionCeilingDays: 30,
      apiTokens: '[]',
    });

    const forwarder = loadFromPod(objects, byName(objects, 'prod-forwarder'), 'forwarder');
    expect(forwarder.config).toMatchObject({ dbRole: 'ledgerhub_forwarder', port: 9090 });
    const sinksFile = forwarder.env['LEDGERHUB_SINKS_FILE']!;
    expect(parseSinksFile(readFileSync(sinksFile, 'utf8'), sinksFile)).toEqual([hookEntry]);

    const retention = loadFromPod(objects, byName(objects, 'prod-retention'), 'retention');
    expect(retention.config).toMatchObject({ retentionCeilingDays: 30, dbRole: 'ledgerhub_maintainer' });
    expect(retention.config.checkpointKey).not.toBeNull();

    const exporter = loadFromPod(objects, byName(objects, 'prod-export'), 'export');
    expect(exporter.config).toMatchObject({
      s3Bucket: 'audit-archive',
      s3Endpoint: 'https://s3.example.com',
      s3AccessKeyId: 'AKIAEXAMPLE',
      s3SecretAccessKey: 's3cr3t',
      exportFormats: ['ndjson'],
    });

    const verify = loadFromPod(objects, byName(objects, 'prod-verify'), 'verify');
    expect(verify.args).toEqual(['verify']);
    expect(verify.config.dbRole).toBe('ledgerhub_reader');

    const sweeper = loadFromPod(objects, byName(objects, 'prod-sweeper'), 'sweeper');
    expect(sweeper.args).toEqual(['sweep']);
    expect(sweeper.config).toMatchObject({ port: 9091, dbRole: 'ledgerhub_maintainer' });

    const migrate = loadFromPod(objects, byName(objects, 'prod-worker'), 'migrate', 'migrate');
    expect(migrate.args).toEqual(['migrate']);
    expect(migrate.config.dbRole).toBe('');
  });

  it('keeps Secrets and per-role values out of the shared ConfigMap', () => {
    const data = byName(objects, 'prod-config').data as Record<string, string>;
    const secretNames = new Set(
      Object.values(ROLE_KEYS).flatMap((keys) =>
        Object.values(keys as Keys)
          .filter((k: KeyDef<unknown>) => k.secret)
          .map((k) => k.env),
      ),
    );
    for (const name of Object.keys(data)) expect(secretNames.has(name), name).toBe(false);
    expect(data).not.toHaveProperty('PORT');
    expect(data).not.toHaveProperty('LEDGERHUB_DB_ROLE');
    expect(data).not.toHaveProperty('REDIS_URL');
    expect(data).not.toHaveProperty('DATABASE_URL');
    expect(JSON.stringify(data)).not.toContain('pw@');
  });

  it('runs every pod restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
    for (const obj of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'CronJob')) {
      const pod = podOf(obj);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext, `${obj.metadata.name}/${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });

  it('takes resources from the policy over the role defaults', () => {
    const worker = podOf(byName(objects, 'prod-worker')).containers[0];
    expect(worker.resources).toEqual({
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { memory: '1Gi' },
    });
    expect(byName(objects, 'prod-worker').spec.replicas).toBe(3);
  });

  it('makes the policy the controlling owner of everything, with the labels the watches select on', () => {
    for (const obj of objects) {
      expect(obj.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'ledgerhub.io/v1alpha1',
          kind: 'AuditPolicy',
          name: 'prod',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(obj.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'ledgerhub-operator',
        'ledgerhub.io/policy': 'prod',
      });
    }
  });

  it('keeps derived names valid for the longest policy name the CRD allows', () => {
    const long = 'p'.repeat(POLICY_NAME_MAX);
    const names = policyObjects(inputs(FULL, { policy: { name: long, namespace: 'a', uid: 'u' } })).map(
      (o) => o,
    );
    for (const o of names) {
      const max = o.kind === 'CronJob' ? 52 : o.kind === 'Service' ? 63 : 253;
      expect(o.metadata.name.length, o.metadata.name).toBeLessThanOrEqual(max);
    }
  });

  it('rolls only the workloads whose configuration or Secrets changed', () => {
    const checksums = (objs: Json[]) =>
      Object.fromEntries(
        objs
          .filter((o) => o.kind !== 'ConfigMap' && o.kind !== 'Service')
          .map((o) => [o.metadata.name, podTemplate(o).metadata.annotations[ANNOTATION_CHECKSUM]]),
      );
    const before = checksums(objects);
    const rotatedSink = checksums(
      policyObjects(
        inputs(FULL, {
          secretHashes: new Map([
            ['ledger/hmac', 'h1'],
            ['hook/secret', 's2'],
          ]),
        }),
      ) as Json[],
    );
    expect(changed(before, rotatedSink)).toEqual(['prod-forwarder']);
    const rotatedHmac = checksums(
      policyObjects(
        inputs(FULL, {
          secretHashes: new Map([
            ['ledger/hmac', 'h2'],
            ['hook/secret', 's1'],
          ]),
        }),
      ) as Json[],
    );
    expect(changed(before, rotatedHmac).sort()).toEqual([
      'prod-api',
      'prod-export',
      'prod-retention',
      'prod-sweeper',
      'prod-verify',
      'prod-worker',
    ]);
    const bigger = checksums(policyObjects(inputs({ ...FULL, ingestion: { batchSize: 500 } })) as Json[]);
    expect(changed(before, bigger)).toEqual(['prod-worker']);
    expect(checksums(policyObjects(inputs(FULL)) as Json[])).toEqual(before);
  });

  it('mounts the sinks file and every sink Secret into the forwarder only', () => {
    const pod = podOf(byName(objects, 'prod-forwarder'));
    const projected = pod.volumes.find((v: Json) => v.name === 'secrets').projected.sources;
    expect(projected).toContainEqual({
      secret: { name: 'hook', items: [{ key: 'secret', path: 'hook/secret' }] },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: 'sinks',
      mountPath: '/etc/ledgerhub/sinks',
      readOnly: true,
    });
    const worker = podOf(byName(objects, 'prod-worker'));
    expect(JSON.stringify(worker.volumes)).not.toContain('"hook"');
  });

  it('leaves out what the policy does not run', () => {
    const minimal = policyObjects(
      inputs({
        mode: 'development',
        ledger: FULL.ledger,
        api: { enabled: false },
        integrity: { sweeper: { enabled: false } },
      }),
    );
    expect(minimal.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/prod-config',
      'ConfigMap/prod-sinks',
      'Deployment/prod-worker',
      'CronJob/prod-retention',
      'CronJob/prod-verify',
    ]);
  });

  it('exports to a volume by mounting the claim and pointing AUDIT_EXPORT_DIR at it', () => {
    const objs = policyObjects(
      inputs({ ...FULL, export: { destination: { volume: { claimName: 'archive' } } } }),
    ) as Json[];
    const exporter = loadFromPod(objs, byName(objs, 'prod-export'), 'export');
    expect(exporter.config.exportDir).toMatch(/\/export$/);
    expect(podOf(byName(objs, 'prod-export')).volumes).toContainEqual({
      name: 'export',
      persistentVolumeClaim: { claimName: 'archive' },
    });
  });

  it('renders the same objects from the same inputs', () => {
    expect(JSON.stringify(policyObjects(inputs(FULL)))).toBe(JSON.stringify(objects));
  });
});

function podTemplate(obj: Json): Json {
  return obj.kind === 'CronJob' ? obj.spec.jobTemplate.spec.template : obj.spec.template;
}

function changed(a: Record<string, string>, b: Record<string, string>): string[] {
  return Object.keys(a).filter((k) => a[k] !== b[k]);
}
