// Unit tests of the structural-schema pipeline a custom resource goes through: pruning, defaulting and
// validation (messages in the apiserver's wording), including ratcheting of unchanged values.
import { describe, expect, it } from 'vitest';
import { renderFieldError } from '../support/kube-apiserver/field-errors.ts';
import type { JsonObject } from '../support/kube-apiserver/json-value.ts';
import { applySchemaDefaults } from '../support/kube-apiserver/schema-defaults.ts';
import { pruneUnknownFields } from '../support/kube-apiserver/schema-pruning.ts';
import { validateAgainstSchema } from '../support/kube-apiserver/schema-validation.ts';
import type { SchemaProps } from '../support/kube-apiserver/structural-schema.ts';

const schema: SchemaProps = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', exclusiveMinimum: true, minimum: 0, multipleOf: 0.5 },
        mode: { type: 'string', enum: ['fast', 'safe'], default: 'safe' },
        name: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 5 },
        when: { type: 'string', format: 'date-time' },
        note: { type: 'string', nullable: true },
        port: { 'x-kubernetes-int-or-string': true },
        tags: {
          type: 'array',
          maxItems: 2,
          minItems: 1,
          'x-kubernetes-list-type': 'set',
          items: { type: 'string' },
        },
        rules: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, weight: { type: 'integer', default: 1 } },
          },
        },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          'x-kubernetes-preserve-unknown-fields': true,
        },
        choice: {
          anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 1 }],
          'x-kubernetes-int-or-string': true,
        },
      },
    },
  },
};

const resource = (spec: unknown): JsonObject =>
  ({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec }) as JsonObject;
const messages = (spec: unknown, old?: unknown): string[] =>
  validateAgainstSchema(resource(spec), schema, old === undefined ? undefined : resource(old)).map(
    renderFieldError,
  );

describe('structural schema validation', () => {
  it('accepts a valid object', () => {
    expect(
      messages({ size: 3, mode: 'fast', name: 'abc', when: '2025-01-02T03:04:05Z', tags: ['a'], port: 80 }),
    ).toEqual([]);
  });

  it('reports a missing required field', () => {
    expect(messages({})).toEqual(['spec.size: Required value']);
    expect(
      validateAgainstSchema({ apiVersion: 'x/v1', kind: 'Thing', metadata: {} }, schema).map(
        renderFieldError,
      ),
    ).toEqual(['spec: Required value']);
  });

  it('reports wrong types with the JSON type it got', () => {
    expect(messages({ size: 'three' })).toEqual([
      'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
    ]);
    expect(messages({ size: 1.5 })).toEqual([
      'spec.size: Invalid value: "number": spec.size in body must be of type integer: "number"',
    ]);
    expect(messages({ size: null })).toEqual([
      'spec.size: Invalid value: "null": spec.size in body must be of type integer: "null"',
    ]);
  });

  it('reports bounds, enum, pattern, lengths and formats', () => {
    expect(messages({ size: 11 })).toEqual([
      'spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10',
    ]);
    expect(messages({ size: 1, ratio: 0 })).toEqual([
      'spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0',
    ]);
    expect(messages({ size: 1, ratio: 0.3 })).toEqual([
      'spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.5',
    ]);
    expect(messages({ size: 1, mode: 'slow' })).toEqual([
      'spec.mode: Unsupported value: "slow": supported values: "fast", "safe"',
    ]);
    expect(messages({ size: 1, name: 'ABC' })).toEqual([
      'spec.name: Invalid value: "ABC": spec.name in body should match \'^[a-z]+$\'',
    ]);
    expect(messages({ size: 1, name: 'abcdef' })).toEqual([
      'spec.name: Invalid value: "abcdef": spec.name in body should be at most 5 chars long',
    ]);
    expect(messages({ size: 1, when: 'tomorrow' })).toEqual([
      'spec.when: Invalid value: "tomorrow": spec.when in body must be of type date-time: "tomorrow"',
    ]);
    expect(messages({ size: 1, labels: { a: 'long' } })).toEqual([
      'spec.labels.a: Invalid value: "long": spec.labels.a in body should be at most 3 chars long',
    ]);
  });

  it('checks list sizes and list-type uniqueness', () => {
    expect(messages({ size: 1, tags: ['a', 'b', 'c'] })).toEqual([
      'spec.tags: Too many: 3: must have at most 2 items',
    ]);
    expect(messages({ size: 1, tags: [] })).toEqual([
      'spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items',
    ]);
    expect(messages({ size: 1, tags: ['a', 'a'] })).toEqual(['spec.tags[1]: Duplicate value: "a"']);
    expect(messages({ size: 1, rules: [{ name: 'x' }, { name: 'x' }] })).toEqual([
      'spec.rules[1]: Duplicate value: {"name":"x"}',
    ]);
    expect(messages({ size: 1, rules: [{ weight: 2 }] })).toEqual(['spec.rules[0].name: Required value']);
  });

  it('honours nullable, int-or-string, preserve-unknown-fields, embedded resources and anyOf', () => {
    expect(messages({ size: 1, note: null, port: 'http', extra: { free: [1, { x: true }] } })).toEqual([]);
    expect(messages({ size: 1, port: 1.5 })).toEqual([
      'spec.port: Invalid value: "number": spec.port in body must be of type integer-or-string: "number"',
    ]);
    expect(messages({ size: 1, template: { spec: {} } })).toEqual([
      'spec.template.apiVersion: Required value: must not be empty',
      'spec.template.kind: Required value: must not be empty',
    ]);
    expect(messages({ size: 1, choice: 'ab' })).toEqual([
      'spec.choice: Invalid value: "ab": spec.choice in body must validate at least one schema (anyOf)',
    ]);
  });

  it('does not re-judge values an update leaves unchanged (ratcheting)', () => {
    const old = { size: 50, name: 'BAD' };
    expect(messages({ size: 50, name: 'BAD', mode: 'fast' }, old)).toEqual([]);
    expect(messages({ size: 51, name: 'BAD' }, old)).toEqual([
      'spec.size: Invalid value: 51: spec.size in body should be less than or equal to 10',
    ]);
  });
});

describe('pruning and defaulting', () => {
  it('prunes undeclared fields, reporting their paths, and keeps preserved subtrees', () => {
    const obj = resource({
      size: 1,
      colour: 'red',
      rules: [{ name: 'a', bogus: 1 }],
      extra: { anything: 1 },
    });
    obj['topLevel'] = true;
    (obj['metadata'] as JsonObject)['bogus'] = 'x';
    expect(pruneUnknownFields(obj, schema).sort()).toEqual([
      'metadata.bogus',
      'spec.colour',
      'spec.rules[0].bogus',
      'topLevel',
    ]);
    expect(obj['spec']).toEqual({ size: 1, rules: [{ name: 'a' }], extra: { anything: 1 } });
  });

  it('fills defaults, including inside list items, and treats null in a non-nullable field as unset', () => {
    const obj = resource({ size: 1, mode: null, rules: [{ name: 'a' }, { name: 'b', weight: 5 }] });
    applySchemaDefaults(obj, schema);
    expect(obj['spec']).toEqual({
      size: 1,
      mode: 'safe',
      rules: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 5 },
      ],
    });
  });
});
