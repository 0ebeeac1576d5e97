// Server-side printing for kubectl: meta.k8s.io/v1 Table (column definitions and rows) from a CRD's
// additionalPrinterColumns or a built-in kind's printer, and PartialObjectMetadata(List) for
// metadata-only clients; rows carry the object, its metadata, or nothing (includeObject).
import { ApiErrors } from './api-errors.ts';
import { humanAge } from './builtin-columns.ts';
import { evaluateJsonPath, parseJsonPath } from './json-path.ts';
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';
import type { PrinterColumn, ResourceType } from './resource-types.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const NAME_COLUMN: JsonObject = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

function definition(column: PrinterColumn): JsonObject {
  return {
    name: column.name,
    type: column.type,
    format: column.format ?? '',
    description: column.description ?? '',
    priority: column.priority,
  };
}

/** One printer-column cell, typed as the apiserver's cellForJSONValue does. */
function cell(column: PrinterColumn, obj: JsonObject): JsonValue {
  let results: JsonValue[];
  try {
    results = evaluateJsonPath(parseJsonPath(column.jsonPath), obj);
  } catch {
    return null;
  }
  const value = results[0];
  if (value === undefined) return null;
  switch (column.type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      // the apiserver renders dates as ages (metatable.ConvertToHumanReadableDateType)
      return typeof value === 'string'
        ? Number.isNaN(Date.parse(value))
          ? '<invalid>'
          : humanAge(value)
        : null;
    default:
      return null;
  }
}

export function partialObjectMetadata(obj: JsonObject): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj['metadata'] ?? {} };
}

export function parseIncludeObject(value: string | null): IncludeObject {
  if (value === null || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw ApiErrors.badRequest(
    `includeObject: Unsupported value: "${value}": supported values: "None", "Metadata", "Object"`,
  );
}

export function buildTable(
  type: ResourceType,
  objects: readonly JsonObject[],
  includeObject: IncludeObject,
  listMeta: JsonObject,
): JsonObject {
  const builtin = type.origin === 'builtin' ? type.behaviour.columns : undefined;
  const columns = builtin ? builtin.definitions : type.printerColumns;
  const rows = objects.map((obj) => {
    const name = isObject(obj['metadata']) ? String(obj['metadata']['name'] ?? '') : '';
    const cells: JsonValue[] = builtin
      ? [name, ...builtin.cells(obj)]
      : [name, ...type.printerColumns.map((column) => cell(column, obj))];
    const row: JsonObject = { cells };
    if (includeObject === 'Object') row['object'] = obj;
    else if (includeObject === 'Metadata') row['object'] = partialObjectMetadata(obj);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: [NAME_COLUMN, ...columns.map(definition)],
    rows,
  };
}
