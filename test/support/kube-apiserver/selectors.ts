// Label selectors (=, ==, !=, in, notin, exists, !exists, gt, lt) and field selectors (=, ==, !=) in the
// apimachinery syntax, parsed once per request and matched against objects.
import { ApiErrors } from './api-errors.ts';
import { isObject, type JsonObject, type JsonValue, valueAt } from './json-value.ts';

type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '>' | '<' }
  | { kind: '(' | ')' | ',' };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c });
      i++;
    } else if (c === '=' || c === '!' || c === '>' || c === '<') {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c as '=' | '!' | '>' | '<' });
        i++;
      }
    } else {
      let j = i;
      while (j < input.length && !/[\s(),=!<>]/.test(input[j]!)) j++;
      tokens.push({ kind: 'word', text: input.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

function selectorError(selector: string, detail: string): Error {
  return ApiErrors.badRequest(`unable to parse requirement: ${detail} (in selector "${selector}")`);
}

export function parseLabelSelector(selector: string | undefined | null): LabelSelector {
  if (!selector || selector.trim() === '') return [];
  const tokens = tokenize(selector);
  const requirements: LabelRequirement[] = [];
  let i = 0;
  const next = (): Token | undefined => tokens[i++];
  const peek = (): Token | undefined => tokens[i];
  const expectWord = (what: string): string => {
    const t = next();
    if (t?.kind !== 'word') throw selectorError(selector, `found '${describe(t)}', expected: ${what}`);
    return t.text;
  };
  while (i < tokens.length) {
    let t = next()!;
    if (t.kind === 'op' && t.text === '!') {
      requirements.push({ key: expectWord("identifier after '!'"), op: '!exists', values: [] });
    } else if (t.kind === 'word') {
      const key = t.text;
      const after = peek();
      if (after === undefined || after.kind === ',') {
        requirements.push({ key, op: 'exists', values: [] });
      } else if (after.kind === 'op') {
        i++;
        const op: LabelOp =
          after.text === '!=' ? '!=' : after.text === '>' ? 'gt' : after.text === '<' ? 'lt' : '=';
        if (after.text === '!') throw selectorError(selector, "found '!', expected: =, !=, ==, >, <");
        const value = peek()?.kind === 'word' ? expectWord('value') : '';
        if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(value)) {
          throw selectorError(selector, `for 'Gt', 'Lt' operators, the value must be an integer`);
        }
        requirements.push({ key, op, values: [value] });
      } else if (after.kind === 'word' && (after.text === 'in' || after.text === 'notin')) {
        i++;
        const open = next();
        if (open?.kind !== '(') throw selectorError(selector, `found '${describe(open)}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          t = next() ?? { kind: ')' };
          if (t.kind === ')') break;
          if (t.kind === ',') continue;
          if (t.kind !== 'word')
            throw selectorError(selector, `found '${describe(t)}', expected: ',', ')' or identifier`);
          values.push(t.text);
        }
        requirements.push({ key, op: after.text, values });
      } else {
        throw selectorError(selector, `found '${describe(after)}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      throw selectorError(selector, `found '${describe(t)}', expected: !, identifier`);
    }
    const sep = next();
    if (sep !== undefined && sep.kind !== ',')
      throw selectorError(selector, `found '${describe(sep)}', expected: ','`);
  }
  return requirements;
}

function describe(t: Token | undefined): string {
  if (!t) return '';
  return t.kind === 'word' || t.kind === 'op' ? t.text : t.kind;
}

export function matchesLabels(selector: LabelSelector, labels: JsonValue | undefined): boolean {
  const map = isObject(labels) ? labels : {};
  return selector.every((r) => {
    const present = Object.hasOwn(map, r.key);
    const value = present ? String(map[r.key]) : undefined;
    switch (r.op) {
      case 'exists':
        return present;
      case '!exists':
        return !present;
      case '=':
        return value === r.values[0];
      case '!=':
        return value !== r.values[0];
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
      case 'gt':
        return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(r.values[0]);
      case 'lt':
        return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(r.values[0]);
    }
    return false;
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Splits on unescaped separators; values may escape `\`, `,` and `=`. */
function splitEscaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeValue(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

/** Parses a field selector, refusing fields the resource does not support (as the apiserver does). */
export function parseFieldSelector(
  selector: string | undefined | null,
  supported: ReadonlySet<string>,
): FieldSelector {
  if (!selector || selector.trim() === '') return [];
  return splitEscaped(selector, ',').map((part) => {
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/s.exec(part.trim());
    if (!m) throw ApiErrors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = m[1]!.trim();
    if (!supported.has(field)) throw ApiErrors.badRequest(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: unescapeValue(m[3]!) };
  });
}

/** The string value of a selectable field ("" when absent). */
export function fieldValue(obj: JsonObject, field: string): string {
  const value = valueAt(obj, field.split('.'));
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function matchesFields(selector: FieldSelector, obj: JsonObject): boolean {
  return selector.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}

/** Picks out metadata.name=X so a watch or list can be narrowed cheaply. */
export function exactName(selector: FieldSelector): string | undefined {
  return selector.find((r) => r.field === 'metadata.name' && r.op === '=')?.value;
}
