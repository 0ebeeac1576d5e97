// RFC 6902 JSON Patch (add, remove, replace, move, copy, test) over plain JSON values, with the error
// wording of the evanphx/json-patch library the apiserver uses.
import { clone, deepEqual, isObject, type JsonValue } from './json-value.ts';

export class PatchApplyError extends Error {}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: JsonValue;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function listIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchApplyError(`invalid array index: ${token}`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) {
    throw new PatchApplyError(`unable to access invalid index: ${index}: invalid index referenced`);
  }
  return index;
}

/** The container holding the last token of a pointer, and that token. */
function locate(doc: JsonValue, tokens: readonly string[], op: string, pointer: string): [JsonValue, string] {
  let current = doc;
  for (const token of tokens.slice(0, -1)) {
    let next: JsonValue | undefined;
    if (Array.isArray(current)) next = current[listIndex(token, current.length, false)];
    else if (isObject(current)) next = current[token];
    if (next === undefined) {
      throw new PatchApplyError(
        `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
      );
    }
    current = next;
  }
  return [current, tokens[tokens.length - 1]!];
}

function get(doc: JsonValue, pointer: string, op: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const [container, last] = locate(doc, tokens, op, pointer);
  let value: JsonValue | undefined;
  if (Array.isArray(container)) value = container[listIndex(last, container.length, false)];
  else if (isObject(container)) value = container[last];
  if (value === undefined) {
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
    );
  }
  return value;
}

function remove(doc: JsonValue, pointer: string, op: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0)
    throw new PatchApplyError(`${op} operation does not apply: cannot remove the root`);
  const [container, last] = locate(doc, tokens, op, pointer);
  if (Array.isArray(container)) {
    return container.splice(listIndex(last, container.length, false), 1)[0]!;
  }
  if (isObject(container) && Object.hasOwn(container, last)) {
    const value = container[last]!;
    delete container[last];
    return value;
  }
  throw new PatchApplyError(
    `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
  );
}

function add(doc: JsonValue, pointer: string, value: JsonValue, replaceOnly: boolean): JsonValue {
  const op = replaceOnly ? 'replace' : 'add';
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const [container, last] = locate(doc, tokens, op, pointer);
  if (Array.isArray(container)) {
    if (replaceOnly) container[listIndex(last, container.length, false)] = value;
    else container.splice(listIndex(last, container.length, true), 0, value);
  } else if (isObject(container)) {
    if (replaceOnly && !Object.hasOwn(container, last)) {
      throw new PatchApplyError(
        `replace operation does not apply: doc is missing key: ${pointer}: missing value`,
      );
    }
    container[last] = value;
  } else {
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
    );
  }
  return doc;
}

function isOperation(value: unknown): value is Operation {
  return isObject(value) && typeof value['op'] === 'string' && typeof value['path'] === 'string';
}

/** Applies a JSON Patch document; throws PatchApplyError when an operation does not apply. */
export function applyJsonPatch(target: JsonValue, patch: unknown): JsonValue {
  if (!Array.isArray(patch)) throw new PatchApplyError('json patch must be a list of operations');
  let doc = clone(target);
  for (const operation of patch) {
    if (!isOperation(operation)) throw new PatchApplyError(`invalid operation ${JSON.stringify(operation)}`);
    const { op, path } = operation;
    switch (op) {
      case 'add':
      case 'replace':
        if (!('value' in operation)) throw new PatchApplyError(`${op} operation has no value`);
        doc = add(doc, path, clone(operation.value as JsonValue), op === 'replace');
        break;
      case 'remove':
        remove(doc, path, 'remove');
        break;
      case 'move': {
        if (operation.from === undefined) throw new PatchApplyError('move operation has no from');
        const value = remove(doc, operation.from, 'move');
        doc = add(doc, path, value, false);
        break;
      }
      case 'copy': {
        if (operation.from === undefined) throw new PatchApplyError('copy operation has no from');
        doc = add(doc, path, clone(get(doc, operation.from, 'copy')), false);
        break;
      }
      case 'test': {
        let actual: JsonValue | undefined;
        try {
          actual = get(doc, path, 'test');
        } catch {
          actual = undefined;
        }
        if (!deepEqual(actual, operation.value ?? null)) {
          throw new PatchApplyError(`testing value ${path} failed: test failed`);
        }
        break;
      }
      default:
        throw new PatchApplyError(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}
