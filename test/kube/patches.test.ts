// Unit tests of the patch formats (RFC 6902 JSON patch, RFC 7396 merge patch, strategic merge patch with
// kubectl's directives) and of label/field selector parsing.
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, PatchApplyError } from '../support/kube-apiserver/json-patch.ts';
import type { JsonObject } from '../support/kube-apiserver/json-value.ts';
import { applyMergePatch } from '../support/kube-apiserver/merge-patch.ts';
import {
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../support/kube-apiserver/selectors.ts';
import { BuiltinShape } from '../support/kube-apiserver/shape.ts';
import { applyStrategicMergePatch } from '../support/kube-apiserver/strategic-merge-patch.ts';

const shape = new BuiltinShape();

function podSpec(obj: unknown): JsonObject {
  return (((obj as JsonObject)['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
}

const live: JsonObject = {
  metadata: { name: 'web', finalizers: ['a'], labels: { app: 'web' } },
  spec: {
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    template: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'sidecar', image: 'envoy:1' },
        ],
        tolerations: [{ key: 'x' }],
      },
    },
  },
};

describe('JSON patch', () => {
  it('applies add, replace, remove, move, copy and test', () => {
    const result = applyJsonPatch({ a: { b: 1 }, list: [1, 2] }, [
      { op: 'test', path: '/a/b', value: 1 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'replace', path: '/a/b', value: 2 },
      { op: 'copy', from: '/a', path: '/c' },
      { op: 'move', from: '/list/0', path: '/first' },
      { op: 'remove', path: '/a' },
      { op: 'add', path: '/x~1y', value: true },
    ]);
    expect(result).toEqual({ list: [2, 3], c: { b: 2 }, first: 1, 'x/y': true });
  });

  it('fails on a failed test and on paths that do not exist', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(PatchApplyError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }])).toThrow(/missing/);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/x/y', value: 2 }])).toThrow(/missing path/);
  });
});

describe('merge patch', () => {
  it('merges objects, deletes on null and replaces lists', () => {
    expect(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [9] })).toEqual({
      a: { c: 2, d: 3 },
      l: [9],
    });
  });
});

describe('strategic merge patch', () => {
  it('merges containers and env by name and replaces atomic lists', () => {
    const patched = applyStrategicMergePatch(
      live,
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'app', env: [{ name: 'B', value: '3' }] }],
              tolerations: [{ key: 'y' }],
            },
          },
        },
      },
      shape,
    );
    const spec = podSpec(patched);
    expect(spec['containers']).toEqual([
      {
        name: 'app',
        image: 'nginx:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '3' },
        ],
      },
      { name: 'sidecar', image: 'envoy:1' },
    ]);
    expect(spec['tolerations']).toEqual([{ key: 'y' }]);
  });

  it('deletes list items with $patch: delete and reorders with $setElementOrder', () => {
    const patched = applyStrategicMergePatch(
      live,
      {
        spec: {
          template: {
            spec: {
              $setElementOrder: undefined,
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
              containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }] }],
            },
          },
        },
      } as unknown as JsonObject,
      shape,
    );
    const containers = podSpec(patched)['containers'] as JsonObject[];
    expect(containers.map((c) => c['name'])).toEqual(['sidecar', 'app']);
    expect(containers[1]!['env']).toEqual([{ name: 'B', value: '2' }]);
  });

  it('replaces a list with $patch: replace and retains only $retainKeys', () => {
    const patched = applyStrategicMergePatch(
      live,
      {
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } },
        },
      },
      shape,
    ) as JsonObject;
    expect((patched['spec'] as JsonObject)['strategy']).toEqual({ type: 'Recreate' });
    expect(podSpec(patched)['containers']).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('unions finalizers and removes them with $deleteFromPrimitiveList', () => {
    const added = applyStrategicMergePatch(
      live,
      { metadata: { finalizers: ['b', 'a'] } },
      shape,
    ) as JsonObject;
    expect((added['metadata'] as JsonObject)['finalizers']).toEqual(['a', 'b']);
    const removed = applyStrategicMergePatch(
      added,
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      shape,
    ) as JsonObject;
    expect((removed['metadata'] as JsonObject)['finalizers']).toEqual(['b']);
  });
});

describe('selectors', () => {
  it('parses every label selector operator', () => {
    const selector = parseLabelSelector(
      'app=web,tier!=db,env in (prod, staging),zone notin (x),canary,!legacy,rank>2',
    );
    expect(selector.map((r) => r.op)).toEqual(['=', '!=', 'in', 'notin', 'exists', '!exists', 'gt']);
    expect(matchesLabels(selector, { app: 'web', env: 'prod', canary: '', rank: '3' })).toBe(true);
    expect(matchesLabels(selector, { app: 'web', env: 'prod', canary: '', rank: '3', legacy: 'yes' })).toBe(
      false,
    );
  });

  it('refuses malformed label selectors and unsupported field selectors with 400', () => {
    expect(() => parseLabelSelector('app in web')).toThrow(/unable to parse requirement/);
    expect(() => parseFieldSelector('spec.x=1', new Set(['metadata.name']))).toThrow(
      /field label not supported: spec.x/,
    );
    expect(parseFieldSelector('metadata.name==a\\,b', new Set(['metadata.name']))).toEqual([
      { field: 'metadata.name', op: '=', value: 'a,b' },
    ]);
  });
});
