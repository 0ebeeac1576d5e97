// Unit tests of CEL x-kubernetes-validations: compiling at registration, evaluation with self/oldSelf,
// transition rules, optionalOldSelf, messageExpression, reason and fieldPath.
import { describe, expect, it } from 'vitest';
import { compileSchemaRules, evaluateRules } from '../support/kube-apiserver/cel-rules.ts';
import { renderFieldError } from '../support/kube-apiserver/field-errors.ts';
import type { JsonValue } from '../support/kube-apiserver/json-value.ts';
import type { SchemaProps, ValidationRule } from '../support/kube-apiserver/structural-schema.ts';

const spec = (rules: ValidationRule[]): SchemaProps => ({
  type: 'object',
  properties: {
    min: { type: 'integer' },
    max: { type: 'integer' },
    name: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    expires: { type: 'string', format: 'date-time' },
  },
  'x-kubernetes-validations': rules,
});

const run = (rules: ValidationRule[], value: JsonValue, old?: JsonValue): string[] =>
  evaluateRules(spec(rules), value, old, 'spec').map(renderFieldError);

describe('CEL validation rules', () => {
  it('passes and fails plain rules over self, with the rule message', () => {
    const rules = [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }];
    expect(run(rules, { min: 1, max: 2 })).toEqual([]);
    expect(run(rules, { min: 3, max: 2 })).toEqual([
      'spec: Invalid value: "object": min must not exceed max',
    ]);
  });

  it('falls back to "failed rule" when there is no message', () => {
    expect(run([{ rule: 'self.name.startsWith("a")' }], { name: 'bob' })).toEqual([
      'spec: Invalid value: "object": failed rule: self.name.startsWith("a")',
    ]);
  });

  it('uses messageExpression, and the message when the expression fails', () => {
    expect(
      run(
        [
          {
            rule: 'self.tags.size() <= 1',
            messageExpression: '"too many tags: " + string(self.tags.size())',
          },
        ],
        { tags: ['a', 'b'] },
      ),
    ).toEqual(['spec: Invalid value: "object": too many tags: 2']);
    expect(run([{ rule: 'false', message: 'static', messageExpression: 'self.missing.field' }], {})).toEqual([
      'spec: Invalid value: "object": static',
    ]);
  });

  it('skips transition rules on create and applies them on update', () => {
    const rules = [{ rule: 'self.name == oldSelf.name', message: 'name is immutable' }];
    expect(run(rules, { name: 'a' })).toEqual([]);
    expect(run(rules, { name: 'b' }, { name: 'a' })).toEqual([
      'spec: Invalid value: "object": name is immutable',
    ]);
  });

  it('runs optionalOldSelf rules on create with an empty oldSelf', () => {
    const rules = [
      {
        rule: '!oldSelf.hasValue() || self.max >= oldSelf.value().max',
        optionalOldSelf: true,
        message: 'max may only grow',
      },
    ];
    expect(run(rules, { max: 1 })).toEqual([]);
    expect(run(rules, { max: 1 }, { max: 2 })).toEqual(['spec: Invalid value: "object": max may only grow']);
  });

  it('reports with the chosen reason and field path', () => {
    expect(
      run(
        [
          {
            rule: 'has(self.name)',
            reason: 'FieldValueRequired',
            fieldPath: '.name',
            message: 'name is required',
          },
        ],
        {},
      ),
    ).toEqual(['spec.name: Required value: name is required']);
    expect(run([{ rule: 'false', reason: 'FieldValueForbidden', message: 'never' }], {})).toEqual([
      'spec: Forbidden: never',
    ]);
  });

  it('types integers as int and date-time strings as timestamps', () => {
    expect(run([{ rule: 'self.min + 1 == 3' }], { min: 2 })).toEqual([]);
    expect(
      run([{ rule: 'self.expires > timestamp("2020-01-01T00:00:00Z")' }], {
        expires: '2021-06-01T00:00:00Z',
      }),
    ).toEqual([]);
    expect(
      run([{ rule: 'self.tags.isSorted() && self.tags.all(t, t.size() == 1)' }], { tags: ['a', 'b'] }),
    ).toEqual([]);
  });

  it('reports rules that do not compile, with their schema path', () => {
    const problems = compileSchemaRules(
      {
        type: 'object',
        properties: {
          spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a >' }, { rule: 'other.x' }] },
        },
      },
      'spec.versions[0].schema.openAPIV3Schema',
    );
    expect(problems.map((p) => p.field)).toEqual([
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule',
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule',
    ]);
    expect(problems[1]?.problem).toContain('other');
  });
});
