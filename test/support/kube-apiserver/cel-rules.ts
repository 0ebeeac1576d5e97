// CEL validation rules (x-kubernetes-validations) on custom resources: compiling rules when a CRD is
// registered, converting JSON values to CEL values by schema type, and evaluating rules (with oldSelf for
// transition rules on update) into field errors.
import { Environment, Optional, type ParseResult } from '@marcbachmann/cel-js';
import { type FieldError, fieldError, OMIT_VALUE } from './field-errors.ts';
import { isObject, type JsonValue, jsonTypeName } from './json-value.ts';
import type { SchemaProps, ValidationRule } from './structural-schema.ts';

// Kubernetes' CEL libraries are larger; these are the list and string helpers rules use most.
function ruleEnvironment(oldSelfType: string): Environment {
  return new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
    .registerVariable('self', 'dyn')
    .registerVariable('oldSelf', oldSelfType)
    .registerFunction('list.isSorted(): bool', (list: unknown[]) =>
      list.every((v, i) => i === 0 || (list[i - 1] as number) <= (v as number)),
    )
    .registerFunction('list.sum(): dyn', (list: unknown[]) =>
      list.reduce(
        (a: unknown, b: unknown) => (a as number) + (b as number),
        typeof list[0] === 'bigint' ? 0n : 0,
      ),
    )
    .registerFunction('list.min(): dyn', (list: unknown[]) => extreme(list, -1))
    .registerFunction('list.max(): dyn', (list: unknown[]) => extreme(list, 1))
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => s.charAt(Number(i)))
    .registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) =>
      s.split(a).join(b),
    )
    .registerFunction(
      'string.find(string): string',
      (s: string, re: string) => new RegExp(re).exec(s)?.[0] ?? '',
    )
    .registerFunction('string.findAll(string): list<string>', (s: string, re: string) =>
      [...s.matchAll(new RegExp(re, 'g'))].map((m) => m[0]),
    )
    .registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''));
}

/** The smallest (direction -1) or largest (1) element; works for ints (bigint) and doubles alike. */
function extreme(list: unknown[], direction: -1 | 1): unknown {
  let best = list[0] as number;
  for (const value of list as number[]) {
    if (direction > 0 ? value > best : value < best) best = value;
  }
  return best;
}

/** Environment creation is expensive: one for plain rules, one for optionalOldSelf rules. */
const environments = { plain: ruleEnvironment('dyn'), optional: ruleEnvironment('optional<dyn>') };
const programs = new Map<string, ParseResult>();

export class RuleCompileError extends Error {}

function program(expression: string, optionalOldSelf = false): ParseResult {
  const key = `${optionalOldSelf ? 'o' : 'p'}:${expression}`;
  let compiled = programs.get(key);
  if (!compiled) {
    try {
      compiled = (optionalOldSelf ? environments.optional : environments.plain).parse(expression);
      const checked = compiled.check();
      if (!checked.valid) throw checked.error ?? new Error('type check failed');
    } catch (err) {
      throw new RuleCompileError((err as Error).message.split('\n')[0] ?? String(err));
    }
    programs.set(key, compiled);
  }
  return compiled;
}

/** Compiles every rule in a schema; returns "path: problem" strings for rules that do not compile. */
export function compileSchemaRules(
  schema: SchemaProps,
  path: string,
): { field: string; rule: string; problem: string }[] {
  const problems: { field: string; rule: string; problem: string }[] = [];
  (schema['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
    for (const [key, expression] of [
      ['rule', rule.rule],
      ['messageExpression', rule.messageExpression],
    ] as const) {
      if (expression === undefined) continue;
      try {
        program(expression, rule.optionalOldSelf === true);
      } catch (err) {
        problems.push({
          field: `${path}.x-kubernetes-validations[${i}].${key}`,
          rule: expression,
          problem: `compilation failed: ${(err as Error).message}`,
        });
      }
    }
  });
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    problems.push(...compileSchemaRules(child, `${path}.properties[${name}]`));
  }
  if (typeof schema.additionalProperties === 'object') {
    problems.push(...compileSchemaRules(schema.additionalProperties, `${path}.additionalProperties`));
  }
  if (schema.items) problems.push(...compileSchemaRules(schema.items, `${path}.items`));
  return problems;
}

/** JSON value to CEL value by schema: integers become int (bigint), date-time strings timestamps. */
export function celValue(value: JsonValue, schema: SchemaProps | undefined): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => celValue(item, schema?.items));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const child =
        schema?.properties?.[key] ??
        (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[key] = celValue(v, child);
    }
    return out;
  }
  if (typeof value === 'number') {
    const integral = schema?.type === 'integer' || (schema?.type === undefined && Number.isInteger(value));
    return integral && Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === 'string' && (schema?.format === 'date-time' || schema?.format === 'date')) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date;
  }
  return value;
}

function isTransitionRule(rule: ValidationRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

function joinFieldPath(path: string, fieldPath: string | undefined): string {
  if (!fieldPath) return path;
  const relative = fieldPath.startsWith('.') ? fieldPath.slice(1) : fieldPath;
  if (relative.startsWith('[')) return `${path}${relative}`;
  return path ? `${path}.${relative}` : relative;
}

/**
 * Evaluates the rules declared at one schema node. `old` is the correlated value from the stored object
 * (undefined on create or when it cannot be correlated); transition rules need it unless optionalOldSelf.
 */
export function evaluateRules(
  schema: SchemaProps,
  value: JsonValue,
  old: JsonValue | undefined,
  path: string,
): FieldError[] {
  const rules = schema['x-kubernetes-validations'];
  if (!rules?.length) return [];
  const errors: FieldError[] = [];
  const self = celValue(value, schema);
  const oldSelf = old === undefined ? undefined : celValue(old, schema);
  for (const rule of rules) {
    const transition = isTransitionRule(rule);
    let context: Record<string, unknown>;
    if (rule.optionalOldSelf) {
      context = { self, oldSelf: oldSelf === undefined ? Optional.none() : Optional.of(oldSelf) };
    } else if (transition) {
      if (oldSelf === undefined) continue;
      context = { self, oldSelf };
    } else {
      context = { self };
    }
    let passed: unknown;
    try {
      passed = program(rule.rule, rule.optionalOldSelf === true)(context);
    } catch (err) {
      errors.push(
        fieldError(
          'Invalid',
          path,
          jsonTypeName(value),
          `${(err as Error).message.split('\n')[0]} evaluating rule: ${rule.rule}`,
        ),
      );
      continue;
    }
    if (passed === true) continue;
    const message = ruleMessage(rule, context);
    const field = joinFieldPath(path, rule.fieldPath);
    switch (rule.reason) {
      case 'FieldValueForbidden':
        errors.push(fieldError('Forbidden', field, OMIT_VALUE, message));
        break;
      case 'FieldValueRequired':
        errors.push(fieldError('Required', field, OMIT_VALUE, message));
        break;
      case 'FieldValueDuplicate':
        errors.push(fieldError('Duplicate', field, jsonTypeName(value), message));
        break;
      default:
        errors.push(fieldError('Invalid', field, jsonTypeName(value), message));
    }
  }
  return errors;
}

function ruleMessage(rule: ValidationRule, context: Record<string, unknown>): string {
  if (rule.messageExpression) {
    try {
      const message = program(rule.messageExpression, rule.optionalOldSelf === true)(context);
      if (typeof message === 'string' && message.trim() !== '') return message;
    } catch {
      // a failing messageExpression falls back to message, as the apiserver does
    }
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}
