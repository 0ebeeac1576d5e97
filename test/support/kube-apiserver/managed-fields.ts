// metadata.managedFields bookkeeping: parsing and rendering entries, deriving a manager name, and moving
// ownership on Update operations (changed fields go to the writer and leave everyone else).
import { type FieldValues, fromFieldsV1, toFieldsV1 } from './field-set.ts';
import { deepEqual, isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { timestampNow } from './object-meta.ts';

export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: Set<string>;
}

export function parseManagedFields(value: JsonValue | undefined): ManagedEntry[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((entry) => {
    const parsed: ManagedEntry = {
      manager: String(entry['manager'] ?? ''),
      operation: entry['operation'] === 'Apply' ? 'Apply' : 'Update',
      apiVersion: String(entry['apiVersion'] ?? ''),
      time: String(entry['time'] ?? timestampNow()),
      fields: fromFieldsV1(entry['fieldsV1']),
    };
    if (typeof entry['subresource'] === 'string' && entry['subresource'] !== '') {
      parsed.subresource = entry['subresource'];
    }
    return parsed;
  });
}

export function renderManagedFields(entries: readonly ManagedEntry[]): JsonObject[] {
  return entries
    .filter((e) => e.fields.size > 0)
    .map((e) => {
      const rendered: JsonObject = {
        manager: e.manager,
        operation: e.operation,
        apiVersion: e.apiVersion,
        time: e.time,
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(e.fields),
      };
      if (e.subresource) rendered['subresource'] = e.subresource;
      return rendered;
    });
}

/** The manager name for a write: the fieldManager parameter, else the User-Agent up to its first "/". */
export function managerName(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0]!.trim();
  return (prefix || 'unknown').slice(0, 128);
}

export function sameIdentity(
  entry: ManagedEntry,
  manager: string,
  operation: 'Apply' | 'Update',
  subresource: string | undefined,
): boolean {
  return entry.manager === manager && entry.operation === operation && entry.subresource === subresource;
}

/** Finds or adds the entry for a manager/operation/subresource. */
export function entryFor(
  entries: ManagedEntry[],
  manager: string,
  operation: 'Apply' | 'Update',
  subresource: string | undefined,
  apiVersion: string,
): ManagedEntry {
  let entry = entries.find((e) => sameIdentity(e, manager, operation, subresource));
  if (!entry) {
    entry = { manager, operation, apiVersion, time: timestampNow(), fields: new Set() };
    if (subresource) entry.subresource = subresource;
    entries.push(entry);
  }
  return entry;
}

/**
 * Ownership after an Update operation: every field the write added or changed belongs to the writer and
 * to nobody else; fields that no longer exist belong to nobody.
 */
export function trackUpdate(
  entries: ManagedEntry[],
  before: FieldValues,
  after: FieldValues,
  manager: string,
  subresource: string | undefined,
  apiVersion: string,
): ManagedEntry[] {
  const changed = new Set<string>();
  for (const [path, value] of after) {
    if (!before.has(path) || !deepEqual(before.get(path), value)) changed.add(path);
  }
  const next = entries.map((e) => ({ ...e, fields: new Set(e.fields) }));
  for (const entry of next) {
    for (const path of changed) entry.fields.delete(path);
  }
  if (changed.size > 0) {
    const writer = entryFor(next, manager, 'Update', subresource, apiVersion);
    for (const path of changed) writer.fields.add(path);
    writer.time = timestampNow();
    writer.apiVersion = apiVersion;
  }
  return retainExisting(next, after);
}

/** Drops owned paths that the final object no longer has, and entries left with nothing. */
export function retainExisting(entries: ManagedEntry[], present: FieldValues): ManagedEntry[] {
  for (const entry of entries) {
    for (const path of [...entry.fields]) if (!present.has(path)) entry.fields.delete(path);
  }
  return entries.filter((e) => e.fields.size > 0);
}
