// CustomResourceDefinitions: validating and defaulting a posted CRD, deriving the served resource types
// (one per served version, all stored in the storage version), and the status the apiextensions
// controllers would write (Established, NamesAccepted, acceptedNames, storedVersions).
import { compileSchemaRules } from './cel-rules.ts';
import { type FieldError, invalid, required } from './field-errors.ts';
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { nameProblems, timestampNow } from './object-meta.ts';
import type { PrinterColumn, ResourceType } from './resource-types.ts';
import { SchemaShape } from './shape.ts';
import type { SchemaProps } from './structural-schema.ts';

const PRINTER_COLUMN_TYPES = new Set(['integer', 'number', 'string', 'boolean', 'date']);

function namesOf(crd: JsonObject): JsonObject {
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  return isObject(spec['names']) ? spec['names'] : {};
}

function versionsOf(crd: JsonObject): JsonObject[] {
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  return Array.isArray(spec['versions']) ? spec['versions'].filter(isObject) : [];
}

/** Defaults the apiextensions strategy fills in: listKind, singular, conversion. */
export function defaultCrd(crd: JsonObject): void {
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  const names = namesOf(crd);
  if (typeof names['kind'] === 'string') {
    if (names['listKind'] === undefined) names['listKind'] = `${names['kind']}List`;
    if (names['singular'] === undefined) names['singular'] = names['kind'].toLowerCase();
  }
  if (spec['conversion'] === undefined) spec['conversion'] = { strategy: 'None' };
}

export function validateCrd(crd: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isObject(crd['spec']) ? crd['spec'] : undefined;
  if (!spec) return [required('spec')];
  const group = spec['group'];
  const names = namesOf(crd);
  if (typeof group !== 'string' || group === '') errors.push(required('spec.group'));
  else if (!group.includes('.'))
    errors.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  for (const key of ['plural', 'kind']) {
    if (typeof names[key] !== 'string' || names[key] === '') errors.push(required(`spec.names.${key}`));
  }
  const plural = names['plural'];
  if (typeof plural === 'string' && plural !== '') {
    for (const p of nameProblems(plural, 'label')) errors.push(invalid('spec.names.plural', plural, p));
  }
  const name = (crd['metadata'] as JsonObject | undefined)?.['name'];
  if (typeof plural === 'string' && typeof group === 'string' && name !== `${plural}.${group}`) {
    errors.push(invalid('metadata.name', name ?? '', 'must be spec.names.plural+"."+spec.group'));
  }
  if (spec['scope'] !== 'Namespaced' && spec['scope'] !== 'Cluster') {
    errors.push(
      spec['scope'] === undefined
        ? required('spec.scope')
        : {
            type: 'NotSupported',
            field: 'spec.scope',
            value: spec['scope'] ?? null,
            detail: 'supported values: "Cluster", "Namespaced"',
          },
    );
  }
  const versions = versionsOf(crd);
  if (versions.length === 0)
    errors.push(invalid('spec.versions', [], 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => v['storage'] === true).length !== 1) {
    errors.push(
      invalid(
        'spec.versions',
        versions as JsonValue,
        'must have exactly one version marked as storage version',
      ),
    );
  }
  versions.forEach((version, i) => {
    const at = `spec.versions[${i}]`;
    if (typeof version['name'] !== 'string' || version['name'] === '') errors.push(required(`${at}.name`));
    const schema = (version['schema'] as JsonObject | undefined)?.['openAPIV3Schema'];
    if (!isObject(schema)) {
      errors.push(required(`${at}.schema.openAPIV3Schema`, 'schemas are required'));
    } else {
      if (schema['type'] !== 'object')
        errors.push(required(`${at}.schema.openAPIV3Schema.type`, 'must be object at the root'));
      for (const problem of compileSchemaRules(schema as SchemaProps, `${at}.schema.openAPIV3Schema`)) {
        errors.push(invalid(problem.field, problem.rule, problem.problem));
      }
    }
    const columns = version['additionalPrinterColumns'];
    if (Array.isArray(columns)) {
      columns.forEach((column, j) => {
        const colAt = `${at}.additionalPrinterColumns[${j}]`;
        if (!isObject(column)) return;
        if (typeof column['name'] !== 'string' || column['name'] === '')
          errors.push(required(`${colAt}.name`));
        if (typeof column['jsonPath'] !== 'string' || column['jsonPath'] === '')
          errors.push(required(`${colAt}.jsonPath`));
        if (!PRINTER_COLUMN_TYPES.has(String(column['type']))) {
          errors.push({
            type: 'NotSupported',
            field: `${colAt}.type`,
            value: column['type'] ?? null,
            detail: 'supported values: "boolean", "date", "integer", "number", "string"',
          });
        }
      });
    }
  });
  return errors;
}

function printerColumnsOf(version: JsonObject): PrinterColumn[] {
  const columns = version['additionalPrinterColumns'];
  if (!Array.isArray(columns) || columns.length === 0) {
    return [
      {
        name: 'Age',
        type: 'date',
        jsonPath: '.metadata.creationTimestamp',
        priority: 0,
        description:
          'CreationTimestamp is a timestamp representing the server time when this object was created.',
      },
    ];
  }
  return columns.filter(isObject).map((c) => {
    const column: PrinterColumn = {
      name: String(c['name']),
      type: String(c['type']),
      jsonPath: String(c['jsonPath']),
      priority: typeof c['priority'] === 'number' ? c['priority'] : 0,
    };
    if (typeof c['format'] === 'string') column.format = c['format'];
    if (typeof c['description'] === 'string') column.description = c['description'];
    return column;
  });
}

/** The resource types a CRD serves: one per served version. */
export function crdResourceTypes(crd: JsonObject): ResourceType[] {
  const spec = crd['spec'] as JsonObject;
  const names = namesOf(crd);
  const versions = versionsOf(crd);
  const storage = versions.find((v) => v['storage'] === true);
  const strings = (value: JsonValue | undefined): string[] =>
    Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
  return versions
    .filter((v) => v['served'] !== false)
    .map((version) => {
      const schema = ((version['schema'] as JsonObject)['openAPIV3Schema'] ?? {
        type: 'object',
      }) as SchemaProps;
      const subresources = isObject(version['subresources']) ? version['subresources'] : {};
      const selectable = Array.isArray(version['selectableFields']) ? version['selectableFields'] : [];
      return {
        group: String(spec['group']),
        version: String(version['name']),
        kind: String(names['kind']),
        listKind: String(names['listKind'] ?? `${names['kind']}List`),
        plural: String(names['plural']),
        singular: String(names['singular'] ?? String(names['kind']).toLowerCase()),
        namespaced: spec['scope'] === 'Namespaced',
        nameRule: 'subdomain' as const,
        shortNames: strings(names['shortNames']),
        categories: strings(names['categories']),
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        storageVersion: String(storage?.['name'] ?? version['name']),
        statusSubresource: isObject(subresources['status']),
        hasGeneration: true,
        allowUnconditionalUpdate: false,
        returnDeletedObject: false,
        origin: 'custom' as const,
        schema,
        shape: new SchemaShape(schema, true),
        printerColumns: printerColumnsOf(version),
        selectableFields: selectable
          .filter(isObject)
          .map((f) => String(f['jsonPath'] ?? '').replace(/^\./, ''))
          .filter((f) => f !== ''),
        behaviour: {},
      } satisfies ResourceType;
    });
}

/** The status the apiextensions controllers converge to for an accepted CRD. */
export function establishedStatus(crd: JsonObject, previous: JsonValue | undefined): JsonObject {
  const names = namesOf(crd);
  const versions = versionsOf(crd);
  const storage = String(versions.find((v) => v['storage'] === true)?.['name'] ?? '');
  const before = isObject(previous) ? previous : {};
  const stored = Array.isArray(before['storedVersions']) ? [...before['storedVersions']] : [];
  if (storage && !stored.includes(storage)) stored.push(storage);
  const oldConditions = Array.isArray(before['conditions']) ? before['conditions'].filter(isObject) : [];
  const condition = (type: string, reason: string, message: string): JsonObject => {
    const existing = oldConditions.find((c) => c['type'] === type && c['status'] === 'True');
    return {
      type,
      status: 'True',
      lastTransitionTime:
        typeof existing?.['lastTransitionTime'] === 'string'
          ? existing['lastTransitionTime']
          : timestampNow(),
      reason,
      message,
    };
  };
  const acceptedNames: JsonObject = { plural: names['plural'] ?? '', kind: names['kind'] ?? '' };
  for (const key of ['singular', 'listKind', 'shortNames', 'categories']) {
    if (names[key] !== undefined) acceptedNames[key] = names[key]!;
  }
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames,
    storedVersions: stored,
  };
}
