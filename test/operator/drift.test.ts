// When the operator applies: an owned object is up to date while it carries the hash of what is desired
// and its generation (resourceVersion, for kinds without one) is the one the operator's own apply
// produced; what the watch caches keep of each object; who runs a ledger that two policies claim.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_APPLIED } from '../../operator/desired/names.ts';
import { ownedProjection, secretProjection, withoutBookkeeping } from '../../operator/kube/projections.ts';
import type { KubeObject } from '../../operator/kube/resources.ts';
import { appliedRecord, isUpToDate } from '../../operator/reconcile/drift.ts';
import { ledgerHolder, ledgerIdentity } from '../../operator/reconcile/ledger-claims.ts';

function live(
  kind: string,
  hash: string,
  generation: number | undefined,
  resourceVersion: string,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: {
      name: 'w',
      namespace: 'n',
      resourceVersion,
      ...(generation === undefined ? {} : { generation }),
      annotations: { [ANNOTATION_APPLIED]: hash },
    },
  };
}

describe('drift', () => {
  it('is up to date when the hash matches and the generation is the one its apply produced', () => {
    const applied = live('Deployment', 'h1', 2, '10');
    const record = appliedRecord('h1', applied);
    expect(isUpToDate('h1', live('Deployment', 'h1', 2, '11'), record)).toBe(true);
  });

  it('applies again after someone changed the spec (a new generation), a new hash, or deletion', () => {
    const record = appliedRecord('h1', live('Deployment', 'h1', 2, '10'));
    expect(isUpToDate('h1', live('Deployment', 'h1', 3, '12'), record)).toBe(false);
    expect(isUpToDate('h2', live('Deployment', 'h1', 2, '10'), record)).toBe(false);
    expect(isUpToDate('h1', undefined, record)).toBe(false);
  });

  it('uses the resourceVersion for kinds without a generation', () => {
    const record = appliedRecord('h1', live('ConfigMap', 'h1', undefined, '10'));
    expect(isUpToDate('h1', live('ConfigMap', 'h1', undefined, '10'), record)).toBe(true);
    expect(isUpToDate('h1', live('ConfigMap', 'h1', undefined, '14'), record)).toBe(false);
  });

  it('trusts the hash of an object first seen after a restart', () => {
    expect(isUpToDate('h1', live('Deployment', 'h1', 9, '99'), undefined)).toBe(true);
  });
});

describe('watch cache projections', () => {
  const bookkeeping = {
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': {} } }],
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}', keep: 'me' },
  };

  it('drops managedFields and the last-applied copy from policies and sinks', () => {
    const kept = withoutBookkeeping({
      apiVersion: 'ledgerhub.io/v1alpha1',
      kind: 'AuditSink',
      metadata: { name: 's', namespace: 'n', ...bookkeeping } as never,
      spec: { type: 'webhook' },
    });
    expect(kept.metadata).toEqual({ name: 's', namespace: 'n', annotations: { keep: 'me' } });
    expect(kept['spec']).toEqual({ type: 'webhook' });
  });

  it('keeps no data of Secrets no policy can refer to (Helm releases, tokens)', () => {
    const kept = secretProjection({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sh.helm.release.v1.x.v1', namespace: 'n' },
      type: 'helm.sh/release.v1',
      data: { release: 'H4sI'.repeat(1000) },
    });
    expect(kept['data']).toEqual({});
  });

  it('keeps only the data of Secrets', () => {
    const kept = secretProjection({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', resourceVersion: '3', ...bookkeeping } as never,
      data: { k: 'dg==' },
      type: 'Opaque',
    });
    expect(kept).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', resourceVersion: '3' },
      data: { k: 'dg==' },
    });
  });

  it('keeps identity, the applied hash and the reported status of owned objects, not their spec', () => {
    const kept = ownedProjection({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'd',
        namespace: 'n',
        uid: 'u',
        resourceVersion: '5',
        generation: 2,
        labels: { 'ledgerhub.io/policy': 'p' },
        annotations: { [ANNOTATION_APPLIED]: 'h', other: 'x' },
        ownerReferences: [
          {
            apiVersion: 'ledgerhub.io/v1alpha1',
            kind: 'AuditPolicy',
            name: 'p',
            uid: 'pu',
            controller: true,
          },
        ],
        managedFields: [],
      } as never,
      spec: { replicas: 1, template: {} },
      status: { availableReplicas: 1, conditions: [{ type: 'Available' }] },
    });
    expect(kept).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'd',
        namespace: 'n',
        uid: 'u',
        resourceVersion: '5',
        generation: 2,
        labels: { 'ledgerhub.io/policy': 'p' },
        annotations: { [ANNOTATION_APPLIED]: 'h' },
        ownerReferences: [
          {
            apiVersion: 'ledgerhub.io/v1alpha1',
            kind: 'AuditPolicy',
            name: 'p',
            uid: 'pu',
            controller: true,
          },
        ],
      },
      status: { availableReplicas: 1 },
    });
  });
});

describe('ledger claims', () => {
  it('identifies a ledger by host, port and database, whatever the credentials', () => {
    expect(ledgerIdentity('postgres://a:x@DB.example/audit')).toBe('db.example:5432/audit');
    expect(ledgerIdentity('postgresql://b:y@db.example:5432/audit?sslmode=require')).toBe(
      'db.example:5432/audit',
    );
    expect(ledgerIdentity('postgres://db.example:6543/other')).toBe('db.example:6543/other');
    expect(ledgerIdentity('not a url')).toBeUndefined();
  });

  it('gives a ledger to the oldest policy claiming it', () => {
    const claims = [
      { policy: 'ns/new', creationTimestamp: '2026-01-02T00:00:00Z', ledger: 'db:5432/a' },
      { policy: 'ns/old', creationTimestamp: '2026-01-01T00:00:00Z', ledger: 'db:5432/a' },
      { policy: 'ns/other', creationTimestamp: '2025-01-01T00:00:00Z', ledger: 'db:5432/b' },
    ];
    expect(ledgerHolder(claims, 'db:5432/a')?.policy).toBe('ns/old');
    expect(ledgerHolder(claims, 'db:5432/b')?.policy).toBe('ns/other');
  });
});
