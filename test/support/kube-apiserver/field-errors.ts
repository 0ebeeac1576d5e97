// Field-level validation errors in the shape of k8s.io/apimachinery's field.Error: the type, the field
// path, the bad value and a detail, rendered exactly as the apiserver prints them in Status causes.
import type { JsonValue } from './json-value.ts';

export type FieldErrorType =
  | 'Invalid'
  | 'Required'
  | 'NotSupported'
  | 'Duplicate'
  | 'Forbidden'
  | 'TooLong'
  | 'TooMany'
  | 'TypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  /** dotted path with [i] / [key] segments, e.g. spec.containers[0].image */
  field: string;
  /** omitted for Required/Forbidden/TooLong and when the value is irrelevant */
  value?: BadValue;
  detail?: string;
}

export const OMIT_VALUE: unique symbol = Symbol('omit-value');

/** A bad value printed verbatim (Go's %v of a non-string, e.g. 0x0 for a zero resourceVersion). */
export class RawValue {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type BadValue = JsonValue | typeof OMIT_VALUE | RawValue;

const TYPE_TEXT: Record<FieldErrorType, string> = {
  Invalid: 'Invalid value',
  Required: 'Required value',
  NotSupported: 'Unsupported value',
  Duplicate: 'Duplicate value',
  Forbidden: 'Forbidden',
  TooLong: 'Too long',
  TooMany: 'Too many',
  TypeInvalid: 'Invalid value',
};

const CAUSE_REASON: Record<FieldErrorType, string> = {
  Invalid: 'FieldValueInvalid',
  Required: 'FieldValueRequired',
  NotSupported: 'FieldValueNotSupported',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  TypeInvalid: 'FieldValueTypeInvalid',
};

export function fieldError(
  type: FieldErrorType,
  field: string,
  value?: BadValue,
  detail?: string,
): FieldError {
  const error: FieldError = { type, field };
  if (value !== undefined) error.value = value;
  if (detail !== undefined) error.detail = detail;
  return error;
}

export const invalid = (field: string, value: BadValue, detail: string): FieldError =>
  fieldError('Invalid', field, value, detail);
export const required = (field: string, detail?: string): FieldError =>
  fieldError('Required', field, undefined, detail);
export const forbidden = (field: string, detail: string): FieldError =>
  fieldError('Forbidden', field, undefined, detail);

/** Renders a bad value the way Go's %v / %q do for the simple types. */
export function renderValue(value: JsonValue | RawValue): string {
  if (value instanceof RawValue) return value.text;
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The part after "field: ", as in StatusCause.message. */
export function errorBody(error: FieldError): string {
  let text = TYPE_TEXT[error.type];
  const valueShown =
    error.type !== 'Required' &&
    error.type !== 'Forbidden' &&
    error.type !== 'TooLong' &&
    error.value !== OMIT_VALUE &&
    error.value !== undefined;
  if (valueShown) text += `: ${renderValue(error.value as JsonValue | RawValue)}`;
  if (error.detail) text += `: ${error.detail}`;
  return text;
}

export function renderFieldError(error: FieldError): string {
  return `${error.field}: ${errorBody(error)}`;
}

/** "a" for one error, "[a, b]" for several: apimachinery's aggregate formatting. */
export function renderAggregate(errors: readonly FieldError[]): string {
  const messages = [...new Set(errors.map(renderFieldError))];
  return messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
}

export function causeOf(error: FieldError): { reason: string; message: string; field: string } {
  return { reason: CAUSE_REASON[error.type], message: errorBody(error), field: error.field };
}

/** Appends a property name (dot) or a list index ([i]) to a field path. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Appends a map key, as field.Path.Key does: labels[app]. */
export function keyPath(path: string, key: string): string {
  return `${path}[${key}]`;
}
