// Validation of a custom resource against its structural schema: types, nullable, int-or-string, enum,
// string/number/list/map bounds, pattern, format, required, list-type uniqueness, embedded resources, the
// allOf/anyOf/oneOf/not combinators and CEL rules; with ratcheting (unchanged values are not re-judged).
import { evaluateRules } from './cel-rules.ts';
import { childPath, type FieldError, fieldError, invalid, required } from './field-errors.ts';
import { deepEqual, isObject, type JsonObject, type JsonValue, jsonTypeName } from './json-value.ts';
import { satisfiesFormat } from './schema-formats.ts';
import { listMapKey } from './shape.ts';
import type { SchemaProps } from './structural-schema.ts';

/**
 * Validates a whole custom resource. `old` is the stored object on update: it feeds transition rules
 * (oldSelf) and ratcheting.
 */
export function validateAgainstSchema(obj: JsonObject, schema: SchemaProps, old?: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (key === 'apiVersion' || key === 'kind') continue;
    const value = obj[key];
    if (key === 'metadata') {
      if (isObject(value)) errors.push(...validateMetadataName(value, child));
      continue;
    }
    if (value === undefined) {
      if (schema.required?.includes(key)) errors.push(required(key));
      continue;
    }
    errors.push(...validateValue(value, child, key, old?.[key], old !== undefined));
  }
  for (const key of schema.required ?? []) {
    if (!(key in (schema.properties ?? {})) && obj[key] === undefined) errors.push(required(key));
  }
  errors.push(...evaluateRules(rootRuleSchema(schema), obj, old, ''));
  return errors.map((e) => (e.field === '' ? { ...e, field: '<nil>' } : e));
}

/** The root schema's own rules see the object without the parts a rule may not reference. */
function rootRuleSchema(schema: SchemaProps): SchemaProps {
  return schema['x-kubernetes-validations'] ? schema : {};
}

function validateMetadataName(meta: JsonObject, schema: SchemaProps): FieldError[] {
  const nameSchema = schema.properties?.['name'];
  const name = meta['name'];
  if (!nameSchema || typeof name !== 'string') return [];
  return validateValue(name, nameSchema, 'metadata.name', undefined, false);
}

function typeMatches(type: string, value: JsonValue): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/**
 * Validates one value. `old` is the correlated stored value; `correlated` says whether this is an
 * update on which old values can be correlated at all.
 */
function validateValue(
  value: JsonValue,
  schema: SchemaProps,
  path: string,
  old: JsonValue | undefined,
  correlated: boolean,
): FieldError[] {
  if (correlated && old !== undefined && deepEqual(value, old)) return [];
  if (value === null) {
    if (schema.nullable || !schema.type) return [];
    return [typeError(path, value, schema.type)];
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      return [typeError(path, value, 'integer-or-string')];
    }
  } else if (schema.type && !typeMatches(schema.type, value)) {
    return [typeError(path, value, schema.type)];
  }
  const errors = valueConstraints(value, schema, path);
  if (isObject(value)) errors.push(...objectConstraints(value, schema, path, old, correlated));
  if (Array.isArray(value)) errors.push(...listConstraints(value, schema, path, old, correlated));
  errors.push(...combinators(value, schema, path));
  if (errors.length === 0) errors.push(...evaluateRules(schema, value, correlated ? old : undefined, path));
  return errors;
}

function typeError(path: string, value: JsonValue, type: string): FieldError {
  const actual = jsonTypeName(value);
  return fieldError('TypeInvalid', path, actual, `${path} in body must be of type ${type}: "${actual}"`);
}

function valueConstraints(value: JsonValue, schema: SchemaProps, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (schema.enum && !schema.enum.some((allowed) => deepEqual(allowed, value))) {
    const supported = schema.enum.map((v) => JSON.stringify(v)).join(', ');
    errors.push(fieldError('NotSupported', path, value, `supported values: ${supported}`));
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      errors.push(invalid(path, value, `${path} in body should be at most ${schema.maxLength} chars long`));
    }
    if (schema.minLength !== undefined && length < schema.minLength) {
      errors.push(invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      errors.push(invalid(path, value, `${path} in body should match '${schema.pattern}'`));
    }
    if (schema.format !== undefined && !satisfiesFormat(schema.format, value)) {
      errors.push(
        invalid(path, value, `${path} in body must be of type ${schema.format}: ${JSON.stringify(value)}`),
      );
    }
  }
  if (typeof value === 'number') {
    const { minimum, maximum, multipleOf } = schema;
    if (minimum !== undefined) {
      if (schema.exclusiveMinimum ? value <= minimum : value < minimum) {
        const relation = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
        errors.push(invalid(path, value, `${path} in body should be ${relation} ${minimum}`));
      }
    }
    if (maximum !== undefined) {
      if (schema.exclusiveMaximum ? value >= maximum : value > maximum) {
        const relation = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
        errors.push(invalid(path, value, `${path} in body should be ${relation} ${maximum}`));
      }
    }
    if (multipleOf !== undefined && multipleOf > 0 && !Number.isInteger(value / multipleOf)) {
      errors.push(invalid(path, value, `${path} in body should be a multiple of ${multipleOf}`));
    }
  }
  return errors;
}

function objectConstraints(
  value: JsonObject,
  schema: SchemaProps,
  path: string,
  old: JsonValue | undefined,
  correlated: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const oldObject = isObject(old) ? old : undefined;
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) errors.push(required(childPath(path, key)));
  }
  const count = Object.keys(value).length;
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    errors.push(fieldError('TooMany', path, count, `must have at most ${schema.maxProperties} items`));
  }
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    errors.push(
      invalid(path, count, `${path} in body should have at least ${schema.minProperties} properties`),
    );
  }
  if (schema['x-kubernetes-embedded-resource']) {
    for (const key of ['apiVersion', 'kind']) {
      if (typeof value[key] !== 'string' || value[key] === '') {
        errors.push(required(childPath(path, key), 'must not be empty'));
      }
    }
  }
  for (const [key, child] of Object.entries(value)) {
    const childSchema =
      schema.properties?.[key] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (!childSchema) continue;
    errors.push(
      ...validateValue(
        child,
        childSchema,
        childPath(path, key),
        oldObject?.[key],
        correlated && oldObject !== undefined,
      ),
    );
  }
  return errors;
}

function listConstraints(
  value: JsonValue[],
  schema: SchemaProps,
  path: string,
  old: JsonValue | undefined,
  correlated: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push(fieldError('TooMany', path, value.length, `must have at most ${schema.maxItems} items`));
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errors.push(invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || schema.uniqueItems) {
    value.forEach((item, i) => {
      if (value.slice(0, i).some((earlier) => deepEqual(earlier, item))) {
        errors.push(fieldError('Duplicate', childPath(path, i), item));
      }
    });
  }
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const mapType = listType === 'map' ? ({ type: 'map', keys } as const) : undefined;
  if (mapType) {
    const seen: JsonValue[] = [];
    value.forEach((item, i) => {
      const key = listMapKey(item, mapType) ?? null;
      if (key !== null && seen.some((k) => deepEqual(k, key))) {
        errors.push(fieldError('Duplicate', childPath(path, i), key as JsonObject));
      }
      seen.push(key);
    });
  }
  const items = schema.items;
  if (!items) return errors;
  const oldList = Array.isArray(old) ? old : undefined;
  value.forEach((item, i) => {
    let oldItem: JsonValue | undefined;
    if (mapType && oldList) {
      const key = listMapKey(item, mapType);
      oldItem = key ? oldList.find((o) => deepEqual(listMapKey(o, mapType), key)) : undefined;
    }
    errors.push(
      ...validateValue(item, items, childPath(path, i), oldItem, correlated && oldItem !== undefined),
    );
  });
  return errors;
}

function combinators(value: JsonValue, schema: SchemaProps, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const passes = (sub: SchemaProps): boolean =>
    validateValue(value, sub, path, undefined, false).length === 0;
  for (const sub of schema.allOf ?? []) errors.push(...validateValue(value, sub, path, undefined, false));
  if (schema.anyOf && !schema.anyOf.some(passes)) {
    errors.push(invalid(path, value, `${path} in body must validate at least one schema (anyOf)`));
  }
  if (schema.oneOf && schema.oneOf.filter(passes).length !== 1) {
    errors.push(invalid(path, value, `${path} in body must validate one and only one schema (oneOf)`));
  }
  if (schema.not && passes(schema.not)) {
    errors.push(invalid(path, value, `${path} in body must not validate the schema (not)`));
  }
  return errors;
}
