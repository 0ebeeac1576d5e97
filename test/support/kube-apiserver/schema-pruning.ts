// Pruning of fields a structural schema does not declare (KEP-2332), returning the pruned paths so
// that fieldValidation=Strict can refuse them and fieldValidation=Warn can report them.
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { keepsUnknownFields, propertySchema, type SchemaProps } from './structural-schema.ts';

/** ObjectMeta's fields; anything else under metadata is dropped when decoding. */
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

/** Removes undeclared fields from a custom resource in place; returns their paths ("spec.foo"). */
export function pruneUnknownFields(obj: JsonObject, schema: SchemaProps): string[] {
  const pruned: string[] = [];
  for (const key of Object.keys(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') {
      pruneMetadata(obj, key, pruned, 'metadata');
      continue;
    }
    const child = propertySchema(schema, key);
    if (child) pruneValue(obj[key]!, child, key, pruned);
    else if (!keepsUnknownFields(schema)) {
      delete obj[key];
      pruned.push(key);
    }
  }
  return pruned;
}

/** Drops fields ObjectMeta does not have (built-in kinds are otherwise not pruned here). */
export function pruneObjectMeta(obj: JsonObject): string[] {
  const pruned: string[] = [];
  pruneMetadata(obj, 'metadata', pruned, 'metadata');
  return pruned;
}

function pruneMetadata(holder: JsonObject, key: string, pruned: string[], path: string): void {
  const meta = holder[key];
  if (!isObject(meta)) return;
  for (const field of Object.keys(meta)) {
    if (!OBJECT_META_FIELDS.has(field)) {
      delete meta[field];
      pruned.push(`${path}.${field}`);
    }
  }
}

function pruneValue(value: JsonValue, schema: SchemaProps, path: string, pruned: string[]): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items) for (const [i, item] of value.entries()) pruneValue(item, items, `${path}[${i}]`, pruned);
    return;
  }
  if (!isObject(value)) return;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(value)) {
    const at = `${path}.${key}`;
    if (embedded && (key === 'apiVersion' || key === 'kind')) continue;
    if (embedded && key === 'metadata') {
      pruneMetadata(value, key, pruned, at);
      continue;
    }
    const child = propertySchema(schema, key);
    if (child) pruneValue(value[key]!, child, at, pruned);
    else if (!keepsUnknownFields(schema)) {
      delete value[key];
      pruned.push(at);
    }
  }
}
