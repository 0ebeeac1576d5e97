// Validation of built-in kinds beyond ObjectMeta: the handful of checks an operator's manifests most
// often trip over on a real cluster (selectors that do not match templates, containers without images,
// Job restart policies, cron syntax, ConfigMap/Secret keys and base64, immutable fields).
import { type FieldError, fieldError, forbidden, invalid, required } from './field-errors.ts';
import { deepEqual, isObject, type JsonObject, type JsonValue, valueAt } from './json-value.ts';
import { matchesLabels, parseLabelSelector } from './selectors.ts';

const CONFIG_KEY_RE = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const IMMUTABLE = 'field is immutable';

function objects(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function validateContainers(podSpec: JsonValue | undefined, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const containers = isObject(podSpec) ? podSpec['containers'] : undefined;
  if (!Array.isArray(containers) || containers.length === 0) return [required(`${path}.containers`)];
  const names = new Set<string>();
  objects(containers).forEach((c, i) => {
    const at = `${path}.containers[${i}]`;
    const name = c['name'];
    if (typeof name !== 'string' || name === '') errors.push(required(`${at}.name`));
    else if (names.has(name)) errors.push(fieldError('Duplicate', `${at}.name`, name));
    else names.add(name);
    if (typeof c['image'] !== 'string' || c['image'] === '') errors.push(required(`${at}.image`));
    objects(c['ports']).forEach((p, j) => {
      const port = p['containerPort'];
      if (typeof port !== 'number' || port < 1 || port > 65535) {
        errors.push(
          invalid(`${at}.ports[${j}].containerPort`, port ?? 0, 'must be between 1 and 65535, inclusive'),
        );
      }
    });
  });
  return errors;
}

function labelSelectorString(selector: JsonValue | undefined): string | undefined {
  if (!isObject(selector)) return undefined;
  const parts: string[] = [];
  if (isObject(selector['matchLabels'])) {
    for (const [k, v] of Object.entries(selector['matchLabels'])) parts.push(`${k}=${String(v)}`);
  }
  for (const expr of objects(selector['matchExpressions'])) {
    const values = Array.isArray(expr['values']) ? expr['values'].map(String) : [];
    const key = String(expr['key']);
    switch (expr['operator']) {
      case 'In':
        parts.push(`${key} in (${values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${key} notin (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
    }
  }
  return parts.join(',');
}

export function validateDeployment(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const selector = spec['selector'];
  const template = isObject(spec['template']) ? spec['template'] : {};
  const templateLabels = valueAt(template, ['metadata', 'labels']);
  const selectorText = labelSelectorString(selector);
  if (selectorText === undefined) errors.push(required('spec.selector'));
  else if (selectorText === '')
    errors.push(invalid('spec.selector', selector ?? null, 'empty selector is invalid for deployment'));
  else if (!matchesLabels(parseLabelSelector(selectorText), templateLabels)) {
    errors.push(
      invalid(
        'spec.template.metadata.labels',
        templateLabels ?? null,
        '`selector` does not match template `labels`',
      ),
    );
  }
  const replicas = spec['replicas'];
  if (typeof replicas === 'number' && replicas < 0) {
    errors.push(invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  errors.push(...validateContainers(template['spec'], 'spec.template.spec'));
  const restart = valueAt(template, ['spec', 'restartPolicy']);
  if (restart !== undefined && restart !== 'Always') {
    errors.push(
      fieldError('NotSupported', 'spec.template.spec.restartPolicy', restart, 'supported values: "Always"'),
    );
  }
  if (old && !deepEqual(valueAt(old, ['spec', 'selector']), selector)) {
    errors.push(invalid('spec.selector', selector ?? null, IMMUTABLE));
  }
  return errors;
}

function validateJobTemplate(template: JsonValue | undefined, path: string): FieldError[] {
  const errors = validateContainers(valueAt(template, ['spec']), `${path}.spec`);
  const restart = valueAt(template, ['spec', 'restartPolicy']);
  if (restart !== 'OnFailure' && restart !== 'Never') {
    errors.push(
      restart === undefined
        ? required(`${path}.spec.restartPolicy`, 'valid values: "OnFailure", "Never"')
        : fieldError(
            'NotSupported',
            `${path}.spec.restartPolicy`,
            restart,
            'supported values: "OnFailure", "Never"',
          ),
    );
  }
  return errors;
}

export function validateJob(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errors = validateJobTemplate(valueAt(obj, ['spec', 'template']), 'spec.template');
  if (old) {
    for (const field of ['selector', 'template', 'completions', 'completionMode']) {
      const before = valueAt(old, ['spec', field]);
      const after = valueAt(obj, ['spec', field]);
      if (!deepEqual(before, after)) errors.push(invalid(`spec.${field}`, after ?? null, IMMUTABLE));
    }
  }
  return errors;
}

const CRON_MACROS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);
const CRON_FIELD_RE =
  /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?)*$/;

function cronProblem(schedule: string): string | undefined {
  const text = schedule.replace(/^(CRON_TZ|TZ)=\S+\s+/, '').trim();
  if (CRON_MACROS.has(text) || /^@every\s+\S+$/.test(text)) return undefined;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  const bad = fields.find((f) => !CRON_FIELD_RE.test(f));
  return bad === undefined ? undefined : `unparseable field: ${bad}`;
}

export function validateCronJob(obj: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const schedule = valueAt(obj, ['spec', 'schedule']);
  if (typeof schedule !== 'string' || schedule === '') errors.push(required('spec.schedule'));
  else {
    const problem = cronProblem(schedule);
    if (problem) errors.push(invalid('spec.schedule', schedule, problem));
  }
  errors.push(
    ...validateJobTemplate(
      valueAt(obj, ['spec', 'jobTemplate', 'spec', 'template']),
      'spec.jobTemplate.spec.template',
    ),
  );
  return errors;
}

function validateKeys(data: JsonValue | undefined, field: string, base64: boolean): FieldError[] {
  if (data === undefined || data === null) return [];
  if (!isObject(data)) return [invalid(field, data, 'must be a map')];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (!CONFIG_KEY_RE.test(key)) errors.push(invalid(field, key, CONFIG_KEY_MESSAGE));
    if (typeof value !== 'string') errors.push(invalid(`${field}[${key}]`, value, 'must be a string'));
    else if (base64 && !BASE64_RE.test(value))
      errors.push(invalid(`${field}[${key}]`, '<secret contents redacted>', 'illegal base64 data'));
  }
  return errors;
}

export function validateConfigMap(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errors = [
    ...validateKeys(obj['data'], 'data', false),
    ...validateKeys(obj['binaryData'], 'binaryData', true),
  ];
  if (old?.['immutable'] === true) {
    if (obj['immutable'] !== true)
      errors.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    for (const field of ['data', 'binaryData']) {
      if (!deepEqual(old[field], obj[field]))
        errors.push(forbidden(field, 'field is immutable when `immutable` is set'));
    }
  }
  return errors;
}

export function validateSecret(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errors = validateKeys(obj['data'], 'data', true);
  if (old && old['type'] !== obj['type']) errors.push(invalid('type', obj['type'] ?? null, IMMUTABLE));
  if (old?.['immutable'] === true) {
    if (obj['immutable'] !== true)
      errors.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!deepEqual(old['data'], obj['data']))
      errors.push(forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return errors;
}

export function validateService(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const headless = spec['clusterIP'] === 'None';
  const ports = objects(spec['ports']);
  if (ports.length === 0 && !headless && spec['type'] !== 'ExternalName') errors.push(required('spec.ports'));
  ports.forEach((p, i) => {
    const port = p['port'];
    if (typeof port !== 'number' || port < 1 || port > 65535) {
      errors.push(invalid(`spec.ports[${i}].port`, port ?? 0, 'must be between 1 and 65535, inclusive'));
    }
    if (ports.length > 1 && (typeof p['name'] !== 'string' || p['name'] === '')) {
      errors.push(required(`spec.ports[${i}].name`));
    }
  });
  const oldIp = old ? valueAt(old, ['spec', 'clusterIP']) : undefined;
  if (old && oldIp !== undefined && oldIp !== '' && spec['clusterIP'] !== oldIp) {
    errors.push(invalid('spec.clusterIP', spec['clusterIP'] ?? '', 'field is immutable'));
  }
  return errors;
}

export function validateLease(obj: JsonObject): FieldError[] {
  const duration = valueAt(obj, ['spec', 'leaseDurationSeconds']);
  if (typeof duration === 'number' && duration <= 0) {
    return [invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0')];
  }
  return [];
}

const EVENT_TYPES = new Set(['Normal', 'Warning']);
const EVENT_FIELD_LIMIT = 128;
const EVENT_NOTE_LIMIT = 1024;

/** events.k8s.io/v1 Events must say who reported what (ValidateEventCreate for the v1 API). */
export function validateEventsV1(obj: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof obj['eventTime'] !== 'string' || obj['eventTime'] === '') errors.push(required('eventTime'));
  if (!EVENT_TYPES.has(String(obj['type'] ?? ''))) {
    errors.push(invalid('type', '', `has invalid value: ${String(obj['type'] ?? '')}`));
  }
  for (const field of ['reportingController', 'reportingInstance', 'action', 'reason']) {
    const value = obj[field];
    if (typeof value !== 'string' || value === '') errors.push(required(field));
    else if (value.length > EVENT_FIELD_LIMIT && field !== 'reportingController') {
      errors.push(invalid(field, '', `can have at most ${EVENT_FIELD_LIMIT} characters`));
    }
  }
  const note = obj['note'];
  if (typeof note === 'string' && Buffer.byteLength(note) > EVENT_NOTE_LIMIT) {
    errors.push(invalid('note', '', `can have at most ${EVENT_NOTE_LIMIT} characters`));
  }
  return errors;
}

/** core/v1 Events: a known type, and an involvedObject in the event's own namespace. */
export function validateCoreEvent(obj: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const type = obj['type'];
  if (type !== undefined && type !== '' && !EVENT_TYPES.has(String(type))) {
    errors.push(invalid('type', '', `has invalid value: ${String(type)}`));
  }
  const involvedNamespace = valueAt(obj, ['involvedObject', 'namespace']);
  const namespace = valueAt(obj, ['metadata', 'namespace']);
  if (typeof involvedNamespace === 'string' && involvedNamespace !== '' && involvedNamespace !== namespace) {
    errors.push(invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
  }
  return errors;
}
