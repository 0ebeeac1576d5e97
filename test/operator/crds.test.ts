// The CustomResourceDefinitions: generated from the zod schemas (a stale checked-in file fails here),
// structural, with the status subresource, printer columns and short names, and the same objects in the
// Helm chart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { customResourceDefinitions, renderCrdFiles } from '../../operator/crd/crd-manifest.ts';
import { renderChartCrdTemplates } from '../../scripts/gen-crds.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
// biome-ignore lint/suspicious/noExplicitAny: CRDs are arbitrary JSON
type Json = any;

/** Walks a schema, calling `visit` with each node and its path. */
function walk(node: Json, path: string, visit: (node: Json, path: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, visit);
}

describe('CRDs', () => {
  it('are checked in as `npm run gen:crds` generates them', () => {
    for (const [file, text] of Object.entries(renderCrdFiles())) {
      expect(readFileSync(`${ROOT}crds/${file}`, 'utf8'), `crds/${file} is stale: run npm run gen:crds`).toBe(
        text,
      );
    }
  });

  it('are in the chart as the same objects, kept on helm uninstall', () => {
    for (const [file, text] of Object.entries(renderChartCrdTemplates())) {
      const checkedIn = readFileSync(`${ROOT}charts/ledgerhub/templates/crds/${file}`, 'utf8');
      expect(checkedIn, `charts/ledgerhub/templates/crds/${file} is stale: run npm run gen:crds`).toBe(text);
      const body = checkedIn
        .split('\n')
        .filter((l) => !l.startsWith('{{'))
        .join('\n');
      const chartCrd = parse(body);
      const plain = parse(readFileSync(`${ROOT}crds/${file}`, 'utf8'));
      expect(chartCrd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      delete chartCrd.metadata.annotations;
      expect(chartCrd).toEqual(plain);
    }
  });

  it('define namespaced ledgerhub.io/v1alpha1 kinds with status, short names and printer columns', () => {
    const [policy, sink] = customResourceDefinitions() as Json[];
    expect(policy.metadata.name).toBe('auditpolicies.ledgerhub.io');
    expect(sink.metadata.name).toBe('auditsinks.ledgerhub.io');
    for (const crd of [policy, sink]) {
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.versions).toHaveLength(1);
      const [v] = crd.spec.versions;
      expect(v).toMatchObject({
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
      });
      expect(v.additionalPrinterColumns.map((c: Json) => c.name)).toContain('Ready');
      expect(v.additionalPrinterColumns.map((c: Json) => c.name)).toContain('Lag');
      expect(v.additionalPrinterColumns.at(-1)).toMatchObject({ name: 'Age', type: 'date' });
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
    }
    expect(policy.spec.versions[0].additionalPrinterColumns.map((c: Json) => c.name)).toContain('Sinks');
    expect(sink.spec.versions[0].additionalPrinterColumns.map((c: Json) => c.name)).toContain('Type');
  });

  it('have structural schemas: a type on every node, no keywords apiextensions refuses', () => {
    for (const crd of customResourceDefinitions() as Json[]) {
      const schema = crd.spec.versions[0].schema.openAPIV3Schema;
      walk(schema, crd.spec.names.kind, (node, path) => {
        if (!node['x-kubernetes-int-or-string'])
          expect(node.type, `${path} has no type`).toBeTypeOf('string');
        for (const forbidden of ['$schema', '$ref', 'uniqueItems', 'propertyNames', 'const', 'oneOf']) {
          expect(node, `${path} has ${forbidden}`).not.toHaveProperty(forbidden);
        }
        if (node.properties) expect(node.additionalProperties, path).toBeUndefined();
      });
    }
  });

  it('carry the defaults, enums and CEL rules of the issue', () => {
    const [policy, sink] = customResourceDefinitions() as Json[];
    const spec = policy.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.properties.retention.properties.days.default).toBe(365);
    expect(spec.properties.retention['x-kubernetes-validations']).toEqual([
      { rule: 'self.days >= 1', message: 'retention must be at least 1 day' },
    ]);
    expect(spec.properties.retention.properties.schedule['x-kubernetes-validations'][0].rule).toMatch(
      /^self\.matches/,
    );
    expect(spec.properties.mode.enum).toEqual(['production', 'development']);
    const sinkSpec = sink.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(sinkSpec.properties.type.enum).toEqual(['splunkHec', 'elasticsearch', 'webhook']);
    expect(sinkSpec['x-kubernetes-validations'][0].rule).toContain('has(self.splunkHec)');
    expect(sinkSpec.properties.batch.properties.events.default).toBe(500);
    const conditions = policy.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.conditions;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
  });
});
