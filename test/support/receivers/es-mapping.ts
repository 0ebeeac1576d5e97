// A small model of an index mapping (explicit types plus dynamic mapping, first value wins, date detection
// on), so a document that conflicts with what the index holds is refused as Elasticsearch refuses it.
import { isEsDate, looksLikeEsDate } from './es-date.ts';
import { type EsErrorCause, illegalArgument } from './es-errors.ts';

export type EsFieldType = 'date' | 'long' | 'float' | 'boolean' | 'keyword' | 'text' | 'object';

/** index.mapping.total_fields.limit default. */
export const DEFAULT_TOTAL_FIELDS_LIMIT = 1000;

const NUMERIC_STRING = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

export class IndexMapping {
  readonly #fields = new Map<string, EsFieldType>();
  readonly #dynamic: boolean;
  readonly #totalFieldsLimit: number;

  constructor(
    explicit: Record<string, EsFieldType>,
    dynamic: boolean,
    totalFieldsLimit = DEFAULT_TOTAL_FIELDS_LIMIT,
  ) {
    this.#dynamic = dynamic;
    this.#totalFieldsLimit = totalFieldsLimit;
    for (const [path, type] of Object.entries(explicit)) {
      const parts = path.split('.');
      for (let i = 1; i < parts.length; i += 1) this.#fields.set(parts.slice(0, i).join('.'), 'object');
      this.#fields.set(path, type);
    }
  }

  /** Field path → type, as mapped now. */
  fields(): Record<string, EsFieldType> {
    return Object.fromEntries(this.#fields);
  }

  /**
   * Checks `doc` against the mapping and, when it fits, maps its new fields. Returns the item error
   * otherwise (nothing is mapped then). `sourceText` only serves the [line:column] in reasons.
   */
  admit(doc: Record<string, unknown>, id: string, sourceText: string): EsErrorCause | undefined {
    const added = new Map<string, EsFieldType>();
    const typeOf = (path: string): EsFieldType | undefined => this.#fields.get(path) ?? added.get(path);
    const failure = this.#walk(doc, '', id, sourceText, typeOf, added);
    if (failure) return failure;
    const newFieldCount = [...added.values()].reduce((n, t) => n + (t === 'text' ? 2 : 1), 0);
    const current = [...this.#fields.values()].reduce((n, t) => n + (t === 'text' ? 2 : 1), 0);
    if (newFieldCount > 0 && current + newFieldCount > this.#totalFieldsLimit) {
      // [unconfirmed] ES 8.x wraps this in document_parsing_exception in some versions.
      return illegalArgument(
        `Limit of total fields [${this.#totalFieldsLimit}] has been exceeded while adding new fields [${newFieldCount}]`,
      );
    }
    for (const [path, type] of added) this.#fields.set(path, type);
    return undefined;
  }

  #walk(
    value: Record<string, unknown>,
    prefix: string,
    id: string,
    sourceText: string,
    typeOf: (path: string) => EsFieldType | undefined,
    added: Map<string, EsFieldType>,
  ): EsErrorCause | undefined {
    for (const [key, child] of Object.entries(value)) {
      if (key.trim() === '') {
        return parsingError(sourceText, key, `field name cannot be an empty string`);
      }
      // A dotted key is shorthand for nested objects.
      const parts = key.split('.');
      let path = prefix;
      for (const [i, part] of parts.entries()) {
        path = path ? `${path}.${part}` : part;
        if (i < parts.length - 1) {
          const failure = this.#place(path, {}, id, sourceText, typeOf, added);
          if (failure) return failure;
        }
      }
      const failure = this.#place(path, child, id, sourceText, typeOf, added);
      if (failure) return failure;
    }
    return undefined;
  }

  #place(
    path: string,
    value: unknown,
    id: string,
    sourceText: string,
    typeOf: (path: string) => EsFieldType | undefined,
    added: Map<string, EsFieldType>,
  ): EsErrorCause | undefined {
    if (value === null || value === undefined) return undefined;
    if (Array.isArray(value)) {
      for (const element of value) {
        const failure = this.#place(path, element, id, sourceText, typeOf, added);
        if (failure) return failure;
      }
      return undefined;
    }
    const mapped = typeOf(path);
    const leaf = path.slice(path.lastIndexOf('.') + 1);
    if (typeof value === 'object') {
      if (mapped !== undefined && mapped !== 'object') {
        return fieldError(sourceText, leaf, path, mapped, id, preview(value), {
          type: 'illegal_argument_exception',
          reason: `tried to parse field [${leaf}] as ${mapped}, but found an object`,
        });
      }
      if (mapped === undefined) {
        if (!this.#dynamic) return undefined;
        added.set(path, 'object');
      }
      return this.#walk(value as Record<string, unknown>, path, id, sourceText, typeOf, added);
    }
    if (mapped === 'object') {
      return parsingError(
        sourceText,
        leaf,
        `object mapping for [${path}] tried to parse field [${leaf}] as object, but found a concrete value`,
      );
    }
    if (mapped === undefined) {
      if (this.#dynamic) added.set(path, dynamicType(value));
      return undefined;
    }
    const rejection = coerce(mapped, value);
    if (rejection) return fieldError(sourceText, leaf, path, mapped, id, String(value), rejection);
    return undefined;
  }
}

function dynamicType(value: unknown): EsFieldType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'float';
  if (typeof value === 'string' && looksLikeEsDate(value)) return 'date';
  return 'text';
}

/** Why a concrete value does not fit `type` (undefined when ES would coerce it). */
function coerce(type: EsFieldType, value: unknown): EsErrorCause | undefined {
  switch (type) {
    case 'text':
    case 'keyword':
      return undefined;
    case 'long':
    case 'float':
      if (typeof value === 'number' || (typeof value === 'string' && NUMERIC_STRING.test(value)))
        return undefined;
      return typeof value === 'boolean'
        ? illegalArgument(
            `Current token (VALUE_${String(value).toUpperCase()}) not numeric, can not use numeric value accessors`,
          )
        : { type: 'number_format_exception', reason: `For input string: "${String(value)}"` };
    case 'boolean':
      if (typeof value === 'boolean' || value === 'true' || value === 'false' || value === '')
        return undefined;
      return illegalArgument(
        `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`,
      );
    case 'date':
      if (isEsDate(value)) return undefined;
      return illegalArgument(
        `failed to parse date field [${String(value)}] with format [strict_date_optional_time||epoch_millis]`,
      );
    case 'object':
      return undefined;
  }
}

function fieldError(
  sourceText: string,
  leaf: string,
  path: string,
  type: EsFieldType,
  id: string,
  valuePreview: string,
  cause: EsErrorCause,
): EsErrorCause {
  return {
    type: 'document_parsing_exception',
    reason: `${position(sourceText, leaf)} failed to parse field [${path}] of type [${type}] in document with id '${id}'. Preview of field's value: '${valuePreview}'`,
    caused_by: cause,
  };
}

function parsingError(sourceText: string, leaf: string, reason: string): EsErrorCause {
  return { type: 'document_parsing_exception', reason: `${position(sourceText, leaf)} ${reason}` };
}

/** ES prefixes parse errors with the [line:column] of the offending token; this points at the key. */
function position(sourceText: string, key: string): string {
  const at = sourceText.indexOf(`"${key}"`);
  return `[1:${at < 0 ? 1 : at + key.length + 3}]`;
}

function preview(value: object): string {
  const entries = Object.entries(value).map(
    ([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
  );
  return `{${entries.join(', ')}}`;
}
