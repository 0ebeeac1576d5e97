// Unit tests of the server-side apply merge: ownership in managedFields (fieldsV1), conflicts and force,
// removal of fields a manager stops applying, list-map merging, and ownership moves on updates.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../support/kube-apiserver/api-errors.ts';
import { type ApplyRequest, serverSideApply } from '../support/kube-apiserver/apply.ts';
import {
  collectFieldValues,
  encodePath,
  fromFieldsV1,
  toFieldsV1,
} from '../support/kube-apiserver/field-set.ts';
import type { JsonObject } from '../support/kube-apiserver/json-value.ts';
import { type ManagedEntry, trackUpdate } from '../support/kube-apiserver/managed-fields.ts';
import { BuiltinShape } from '../support/kube-apiserver/shape.ts';

const shape = new BuiltinShape();

function deployment(containers: JsonObject[], extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { template: { spec: { containers } }, ...extra },
  };
}

function apply(
  live: JsonObject | undefined,
  applied: JsonObject,
  manager: string,
  entries: ManagedEntry[],
  force = false,
) {
  const request: ApplyRequest = {
    live,
    applied,
    manager,
    subresource: undefined,
    apiVersion: 'apps/v1',
    force,
    shape,
    entries,
  };
  return serverSideApply(request);
}

function fieldsOf(entries: ManagedEntry[], manager: string): JsonObject {
  const entry = entries.find((e) => e.manager === manager);
  return entry ? toFieldsV1(entry.fields) : {};
}

describe('server-side apply merge', () => {
  it('owns exactly the applied leaves, with list-map items keyed by name', () => {
    const { object, entries } = apply(
      undefined,
      deployment([{ name: 'app', image: 'nginx:1' }], { replicas: 2 }),
      'base',
      [],
    );
    expect(object['spec']).toEqual({
      template: { spec: { containers: [{ name: 'app', image: 'nginx:1' }] } },
      replicas: 2,
    });
    expect(fieldsOf(entries, 'base')).toEqual({
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
  });

  it("merges another manager's container into the list instead of replacing it", () => {
    const first = apply(undefined, deployment([{ name: 'app', image: 'nginx:1' }]), 'base', []);
    const second = apply(
      first.object,
      deployment([{ name: 'sidecar', image: 'envoy:1' }]),
      'mesh',
      first.entries,
    );
    const containers = ((second.object['spec'] as JsonObject)['template'] as JsonObject)[
      'spec'
    ] as JsonObject;
    expect(containers['containers']).toEqual([
      { name: 'app', image: 'nginx:1' },
      { name: 'sidecar', image: 'envoy:1' },
    ]);
  });

  it('refuses to change a value another manager owns, naming the field and the manager', () => {
    const first = apply(undefined, deployment([{ name: 'app', image: 'nginx:1' }]), 'base', []);
    let error: unknown;
    try {
      apply(first.object, deployment([{ name: 'app', image: 'nginx:2' }]), 'other', first.entries);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(409);
    expect((error as ApiError).message).toBe(
      'Apply failed with 1 conflict: conflict with "base": .spec.template.spec.containers[name="app"].image',
    );
  });

  it('takes ownership with force, leaving the previous owner without the field', () => {
    const first = apply(undefined, deployment([{ name: 'app', image: 'nginx:1' }]), 'base', []);
    const forced = apply(
      first.object,
      deployment([{ name: 'app', image: 'nginx:2' }]),
      'other',
      first.entries,
      true,
    );
    const base = forced.entries.find((e) => e.manager === 'base')!;
    const image = encodePath([
      'f:spec',
      'f:template',
      'f:spec',
      'f:containers',
      'k:{"name":"app"}',
      'f:image',
    ]);
    expect(base.fields.has(image)).toBe(false);
    expect(forced.entries.find((e) => e.manager === 'other')!.fields.has(image)).toBe(true);
  });

  it('removes what a manager no longer applies, but keeps what another manager also owns', () => {
    const first = apply(
      undefined,
      deployment([{ name: 'app', image: 'nginx:1' }], { replicas: 3, paused: false }),
      'base',
      [],
    );
    const shared = apply(
      first.object,
      deployment([{ name: 'app', image: 'nginx:1' }], { replicas: 3 }),
      'scaler',
      first.entries,
    );
    const after = apply(
      shared.object,
      deployment([{ name: 'app', image: 'nginx:1' }]),
      'base',
      shared.entries,
    );
    expect(after.object['spec']).toMatchObject({ replicas: 3 });
    expect((after.object['spec'] as JsonObject)['paused']).toBeUndefined();
  });

  it('removes a list-map item the manager stops applying', () => {
    const first = apply(
      undefined,
      deployment([
        { name: 'app', image: 'a' },
        { name: 'old', image: 'b' },
      ]),
      'base',
      [],
    );
    const after = apply(first.object, deployment([{ name: 'app', image: 'a' }]), 'base', first.entries);
    const spec = ((after.object['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
    expect(spec['containers']).toEqual([{ name: 'app', image: 'a' }]);
  });
});

describe('managedFields bookkeeping', () => {
  it('round-trips path sets through fieldsV1', () => {
    const values = collectFieldValues(
      deployment([{ name: 'app', image: 'x', ports: [{ containerPort: 80 }] }]),
      shape,
    );
    const tree = toFieldsV1(values.keys());
    expect(fromFieldsV1(tree)).toEqual(new Set(values.keys()));
    expect(JSON.stringify(tree)).toContain('k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}');
  });

  it('moves a changed field to the updating manager', () => {
    const before = deployment([{ name: 'app', image: 'a' }], { replicas: 1 });
    const after = deployment([{ name: 'app', image: 'a' }], { replicas: 2 });
    const created = trackUpdate(
      [],
      new Map(),
      collectFieldValues(before, shape),
      'creator',
      undefined,
      'apps/v1',
    );
    const updated = trackUpdate(
      created,
      collectFieldValues(before, shape),
      collectFieldValues(after, shape),
      'scaler',
      undefined,
      'apps/v1',
    );
    const replicas = encodePath(['f:spec', 'f:replicas']);
    expect(updated.find((e) => e.manager === 'creator')!.fields.has(replicas)).toBe(false);
    expect([...updated.find((e) => e.manager === 'scaler')!.fields]).toEqual([replicas]);
  });
});
