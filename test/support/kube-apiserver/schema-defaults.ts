// Structural-schema defaulting (KEP-575): unset properties with a `default` get it, recursively; null in a
// non-nullable field counts as unset. Applied on create, update and every read of a custom resource.
import { clone, isObject, type JsonObject, type JsonValue } from './json-value.ts';
import type { SchemaProps } from './structural-schema.ts';

export function applySchemaDefaults(obj: JsonObject, schema: SchemaProps): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    defaultProperty(obj, key, child);
  }
}

function defaultProperty(holder: JsonObject, key: string, schema: SchemaProps): void {
  if (holder[key] === null && !schema.nullable) delete holder[key];
  if (holder[key] === undefined && schema.default !== undefined) holder[key] = clone(schema.default);
  const value = holder[key];
  if (value !== undefined) defaultValue(value, schema);
}

function defaultValue(value: JsonValue, schema: SchemaProps): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    value.forEach((item, i) => {
      if (item === null && !items.nullable && items.default !== undefined) value[i] = clone(items.default);
      defaultValue(value[i]!, items);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(schema.properties ?? {})) defaultProperty(value, key, child);
  if (typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(value)) {
      if (!schema.properties?.[key]) defaultProperty(value, key, schema.additionalProperties);
    }
  }
}
