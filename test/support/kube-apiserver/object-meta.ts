// ObjectMeta rules shared by every kind: name, label, annotation, finalizer and ownerReference validation
// (apimachinery's ValidateObjectMeta wording), generated names, uids and timestamps.
import { randomUUID } from 'node:crypto';
import { type FieldError, forbidden, invalid, keyPath, required } from './field-errors.ts';
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';

export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path-segment';

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Problems with a name under the given rule, as detail strings. */
export function nameProblems(name: string, rule: NameRule): string[] {
  if (rule === 'path-segment') {
    if (name === '.' || name === '..') return [`may not be '${name}'`];
    return /[/%]/.test(name) ? [`may not contain '/' or '%'`] : [];
  }
  const [re, max, message] =
    rule === 'label'
      ? [LABEL_RE, 63, LABEL_MESSAGE]
      : rule === 'dns1035'
        ? [DNS1035_RE, 63, DNS1035_MESSAGE]
        : [SUBDOMAIN_RE, 253, SUBDOMAIN_MESSAGE];
  const problems: string[] = [];
  if (name.length > max) problems.push(`must be no more than ${max} characters`);
  if (!re.test(name)) problems.push(message);
  return problems;
}

export function qualifiedNameProblems(key: string): string[] {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  const problems: string[] = [];
  if (prefix !== undefined) {
    if (prefix === '') problems.push('prefix part must be non-empty');
    else problems.push(...nameProblems(prefix, 'subdomain').map((p) => `prefix part ${p}`));
  }
  if (name === '') problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  if (name !== '' && !QUALIFIED_NAME_RE.test(name)) problems.push(QUALIFIED_NAME_MESSAGE);
  return problems;
}

function validateLabels(labels: JsonValue | undefined, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return [invalid(field, labels, 'must be a map of string keys to string values')];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const p of qualifiedNameProblems(key)) errors.push(invalid(field, key, p));
    if (typeof value !== 'string') {
      errors.push(invalid(keyPath(field, key), value, 'must be a string'));
      continue;
    }
    if (value.length > 63) errors.push(invalid(field, value, 'must be no more than 63 characters'));
    if (!LABEL_VALUE_RE.test(value)) errors.push(invalid(field, value, LABEL_VALUE_MESSAGE));
  }
  return errors;
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

function validateAnnotations(annotations: JsonValue | undefined, field: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations))
    return [invalid(field, annotations, 'must be a map of string keys to string values')];
  const errors: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const p of qualifiedNameProblems(key.toLowerCase())) errors.push(invalid(field, key, p));
    if (typeof value !== 'string') errors.push(invalid(keyPath(field, key), value, 'must be a string'));
    size += key.length + (typeof value === 'string' ? value.length : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errors.push(fieldTooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT));
  }
  return errors;
}

function fieldTooLong(field: string, limit: number): FieldError {
  return { type: 'TooLong', field, detail: `must have at most ${limit} bytes` };
}

function validateFinalizers(finalizers: JsonValue | undefined, field: string): FieldError[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [invalid(field, finalizers, 'must be a list of strings')];
  const errors: FieldError[] = [];
  finalizers.forEach((f, i) => {
    if (typeof f !== 'string') {
      errors.push(invalid(`${field}[${i}]`, f, 'must be a string'));
      return;
    }
    for (const p of qualifiedNameProblems(f)) errors.push(invalid(`${field}[${i}]`, f, p));
  });
  return errors;
}

function validateOwnerReferences(refs: JsonValue | undefined, field: string): FieldError[] {
  if (refs === undefined || refs === null) return [];
  if (!Array.isArray(refs)) return [invalid(field, refs, 'must be a list')];
  const errors: FieldError[] = [];
  let controllers = 0;
  refs.forEach((ref, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(ref)) {
      errors.push(invalid(at, ref, 'must be an object'));
      return;
    }
    for (const key of ['apiVersion', 'kind', 'name', 'uid']) {
      if (typeof ref[key] !== 'string' || ref[key] === '')
        errors.push(invalid(`${at}.${key}`, ref[key] ?? '', `${key} must not be empty`));
    }
    if (ref['controller'] === true) controllers++;
  });
  if (controllers > 1) {
    errors.push(invalid(field, refs, 'Only one reference can have Controller set to true'));
  }
  return errors;
}

export interface MetaRules {
  nameRule: NameRule;
  namespaced: boolean;
}

/** ValidateObjectMeta: the checks every create and update goes through. */
export function validateObjectMeta(meta: JsonObject, rules: MetaRules): FieldError[] {
  const errors: FieldError[] = [];
  const name = meta['name'];
  if (typeof name !== 'string' || name === '') {
    errors.push(required('metadata.name', 'name or generateName is required'));
  } else {
    for (const p of nameProblems(name, rules.nameRule)) errors.push(invalid('metadata.name', name, p));
  }
  if (rules.namespaced) {
    const ns = meta['namespace'];
    if (typeof ns !== 'string' || ns === '') errors.push(required('metadata.namespace'));
  }
  errors.push(...validateLabels(meta['labels'], 'metadata.labels'));
  errors.push(...validateAnnotations(meta['annotations'], 'metadata.annotations'));
  errors.push(...validateFinalizers(meta['finalizers'], 'metadata.finalizers'));
  errors.push(...validateOwnerReferences(meta['ownerReferences'], 'metadata.ownerReferences'));
  return errors;
}

function finalizersOf(meta: JsonObject): string[] {
  const f = meta['finalizers'];
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : [];
}

/** ValidateObjectMetaUpdate: no new finalizers once deletion has started. */
export function validateObjectMetaUpdate(meta: JsonObject, oldMeta: JsonObject): FieldError[] {
  if (oldMeta['deletionTimestamp'] === undefined) return [];
  const before = new Set(finalizersOf(oldMeta));
  const added = finalizersOf(meta).filter((f) => !before.has(f));
  if (added.length === 0) return [];
  return [
    forbidden(
      'metadata.finalizers',
      `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
    ),
  ];
}

export { finalizersOf };

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const GENERATED_SUFFIX_LENGTH = 5;

/** names.SimpleNameGenerator: the prefix plus five random characters, the prefix cut to fit 63. */
export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < GENERATED_SUFFIX_LENGTH; i++) {
    suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  }
  const maxPrefix = 63 - GENERATED_SUFFIX_LENGTH;
  return (prefix.length > maxPrefix ? prefix.slice(0, maxPrefix) : prefix) + suffix;
}

export function newUid(): string {
  return randomUUID();
}

/** metav1.Time: RFC 3339 with second precision. */
export function timestampNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function normalizeMicroTime(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'string') return value;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) return value;
  if (m[3] !== 'Z') {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return value;
    const micros = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
    return `${date.toISOString().slice(0, 19)}.${micros}Z`;
  }
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
}
