// The JSONPath subset of kubectl/CRD printer columns: .field, ['field'], [n], [*], and filters
// [?(@.path=="value")] with == and !=. Returns every match, in document order.
import { isObject, type JsonValue } from './json-value.ts';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: string[]; op: '==' | '!='; value: JsonValue };

export class JsonPathError extends Error {}

function parseFilter(text: string): Step {
  const m = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*(.+)\)$/.exec(text.trim());
  if (!m) throw new JsonPathError(`unsupported filter: [${text}]`);
  const literal = m[3]!.trim();
  let value: JsonValue;
  if (/^".*"$|^'.*'$/.test(literal)) value = literal.slice(1, -1);
  else if (literal === 'true' || literal === 'false') value = literal === 'true';
  else if (!Number.isNaN(Number(literal))) value = Number(literal);
  else throw new JsonPathError(`unsupported filter literal: ${literal}`);
  return { kind: 'filter', path: m[1]!.slice(1).split('.'), op: m[2] as '==' | '!=', value };
}

export function parseJsonPath(expression: string): Step[] {
  let text = expression.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      const m = /^\.([A-Za-z0-9_\-/]+)/.exec(text.slice(i));
      if (!m) {
        i++;
        continue;
      }
      steps.push({ kind: 'field', name: m[1]! });
      i += m[0].length;
    } else if (c === '[') {
      let depth = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === '[' || text[j] === '(') depth++;
        if (text[j] === ']' || text[j] === ')') depth--;
        if (depth === 0) break;
      }
      const inner = text.slice(i + 1, j);
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?')) steps.push(parseFilter(inner));
      else throw new JsonPathError(`unsupported subscript: [${inner}]`);
      i = j + 1;
    } else {
      throw new JsonPathError(`unexpected character ${c} in ${expression}`);
    }
  }
  return steps;
}

function fieldPathValue(value: JsonValue, path: string[]): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return current;
}

export function evaluateJsonPath(steps: readonly Step[], root: JsonValue): JsonValue[] {
  let current: JsonValue[] = [root];
  for (const step of steps) {
    const next: JsonValue[] = [];
    for (const value of current) {
      if (step.kind === 'field') {
        if (isObject(value) && value[step.name] !== undefined) next.push(value[step.name]!);
      } else if (step.kind === 'index') {
        if (Array.isArray(value)) {
          const item = value[step.index < 0 ? value.length + step.index : step.index];
          if (item !== undefined) next.push(item);
        }
      } else if (step.kind === 'all') {
        if (Array.isArray(value)) next.push(...value);
        else if (isObject(value)) next.push(...Object.values(value));
      } else {
        const items = Array.isArray(value) ? value : [value];
        for (const item of items) {
          const actual = fieldPathValue(item, step.path);
          if ((actual === step.value) === (step.op === '==')) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
