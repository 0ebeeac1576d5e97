// zod schema -> Kubernetes structural OpenAPI v3 schema: keeps what apiextensions accepts (types,
// bounds, enums, defaults, descriptions, x-kubernetes-* extensions), rewrites int-or-string the way
// controller-gen does, and merges CEL rules given by path.
import { z } from 'zod';
import type { CelRule } from '../api/cel-rule.ts';

export type JsonSchema = { [key: string]: unknown };

/** The keywords apiextensions accepts that zod produces, in the order the YAML shows them. */
const KEPT = [
  'description',
  'type',
  'format',
  'nullable',
  'enum',
  'default',
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'items',
  'additionalProperties',
];
const RANK = new Map(KEPT.map((key, i) => [key, i]));

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** The structural schema of a zod schema (its input side, so defaulted fields are optional). */
export function structuralSchema(
  schema: z.ZodType,
  rules: Record<string, CelRule[]> = {},
  root = '',
): JsonSchema {
  const raw = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'throw' });
  const out = clean(raw as JsonSchema);
  const unused = new Set(Object.keys(rules));
  mergeRules(out, root, rules, unused);
  if (unused.size > 0) throw new Error(`CEL rules for paths not in the schema: ${[...unused].join(', ')}`);
  return out;
}

function clean(node: JsonSchema): JsonSchema {
  if (node['x-kubernetes-int-or-string'] === true) return intOrString(node);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) out[key] = value;
    else if (!RANK.has(key)) continue;
    else if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, clean(v)]),
      );
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = clean(value as JsonSchema);
    } else if ((key === 'minimum' && value === -UNBOUNDED) || (key === 'maximum' && value === UNBOUNDED)) {
    } else if (key === 'pattern' && node['format'] === 'date-time') {
    } else out[key] = value;
  }
  if (out['additionalProperties'] === false) delete out['additionalProperties'];
  if (out['type'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`schema node without a type: ${JSON.stringify(node).slice(0, 200)}`);
  }
  return ordered(out);
}

/** Keywords first in KEPT order, then the x-kubernetes-* extensions. */
function ordered(node: JsonSchema): JsonSchema {
  const rank = (key: string) => RANK.get(key) ?? KEPT.length;
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b)));
}

/** `anyOf: [integer, string]` + `x-kubernetes-int-or-string`, the string's pattern lifted to the node. */
function intOrString(node: JsonSchema): JsonSchema {
  const branches = (node['anyOf'] as JsonSchema[] | undefined) ?? [];
  const text = branches.find((b) => b['type'] === 'string');
  const out: JsonSchema = {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  };
  if (typeof text?.['pattern'] === 'string') out['pattern'] = text['pattern'];
  if (typeof node['description'] === 'string') return { description: node['description'], ...out };
  return out;
}

function mergeRules(
  node: JsonSchema,
  path: string,
  rules: Record<string, CelRule[]>,
  unused: Set<string>,
): void {
  const extra = rules[path];
  if (extra) {
    unused.delete(path);
    const own = (node['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
    node['x-kubernetes-validations'] = [...own, ...extra];
  }
  const props = node['properties'] as Record<string, JsonSchema> | undefined;
  for (const [key, child] of Object.entries(props ?? {})) {
    mergeRules(child, path ? `${path}.${key}` : key, rules, unused);
  }
}
