// Parsing a HEC /event body: concatenated JSON objects (not an array, not strictly NDJSON) and the
// per-event rules. Stops at the first bad event and reports its 0-based number, as Splunk does.
import { HecCodes, type HecEventError } from './hec-replies.ts';

export type HecFieldValue = string | number | (string | number)[];

export interface HecEventInput {
  event: unknown;
  /** Epoch seconds with an optional fraction; undefined when the event carried no `time`. */
  time: number | undefined;
  host: string | undefined;
  source: string | undefined;
  sourcetype: string | undefined;
  index: string | undefined;
  fields: Record<string, HecFieldValue> | undefined;
  /** The event object exactly as parsed. */
  raw: Record<string, unknown>;
}

export interface HecBatchError {
  code: HecEventError;
  /** 0-based position of the offending object in the body: Splunk's `invalid-event-number`. */
  eventNumber: number;
  /** Why, for test failure messages (Splunk itself only sends the code). */
  detail: string;
}

export interface HecBatch {
  /** The valid events before the first bad one (all of them when `error` is absent). */
  events: HecEventInput[];
  error: HecBatchError | undefined;
}

const NUMERIC_TIME = /^\d+(\.\d+)?$/;
const JSON_WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** `indexAllowed` says whether the token may write to an index named in an event. */
export function parseHecBatch(text: string, indexAllowed: (index: string) => boolean): HecBatch {
  const events: HecEventInput[] = [];
  let pos = skipWhitespace(text, 0);
  while (pos < text.length) {
    const eventNumber = events.length;
    const end = valueEnd(text, pos);
    if (end < 0) {
      return failed(events, HecCodes.invalidDataFormat, eventNumber, 'unterminated JSON value');
    }
    let value: unknown;
    try {
      value = JSON.parse(text.slice(pos, end));
    } catch (err) {
      return failed(events, HecCodes.invalidDataFormat, eventNumber, `not JSON: ${(err as Error).message}`);
    }
    const checked = checkEvent(value, indexAllowed);
    if ('code' in checked) return failed(events, checked.code, eventNumber, checked.detail);
    events.push(checked);
    pos = skipWhitespace(text, end);
  }
  return { events, error: undefined };
}

function failed(events: HecEventInput[], code: HecEventError, eventNumber: number, detail: string): HecBatch {
  return { events, error: { code, eventNumber, detail } };
}

type EventCheck = HecEventInput | { code: HecEventError; detail: string };

function checkEvent(value: unknown, indexAllowed: (index: string) => boolean): EventCheck {
  if (!isPlainObject(value)) {
    const what = Array.isArray(value)
      ? 'an array (a batch is concatenated objects, not an array)'
      : typeof value;
    return { code: HecCodes.invalidDataFormat, detail: `event object expected, got ${what}` };
  }
  if (!('event' in value)) return { code: HecCodes.eventRequired, detail: 'no "event" member' };
  if (isBlank(value['event'])) return { code: HecCodes.eventBlank, detail: '"event" is blank' };

  const time = checkTime(value['time']);
  if (time === 'invalid') {
    return {
      code: HecCodes.invalidDataFormat,
      detail: '"time" must be epoch seconds (number or numeric string)',
    };
  }
  // [unconfirmed] Splunk's answer to non-string host/source/sourcetype is not documented; Vector
  // ignores them. A strict stand-in refuses them as an invalid data format.
  for (const key of ['host', 'source', 'sourcetype'] as const) {
    if (key in value && typeof value[key] !== 'string') {
      return { code: HecCodes.invalidDataFormat, detail: `"${key}" must be a string` };
    }
  }
  const index = value['index'];
  if (index !== undefined) {
    if (typeof index !== 'string')
      return { code: HecCodes.invalidDataFormat, detail: '"index" must be a string' };
    if (!indexAllowed(index)) {
      return { code: HecCodes.incorrectIndex, detail: `index "${index}" is not allowed for this token` };
    }
  }
  const fields = checkFields(value['fields']);
  if (typeof fields === 'string') return { code: HecCodes.indexedFieldsError, detail: fields };

  return {
    event: value['event'],
    time,
    host: value['host'] as string | undefined,
    source: value['source'] as string | undefined,
    sourcetype: value['sourcetype'] as string | undefined,
    index,
    fields,
    raw: value,
  };
}

/**
 * Blank: "" and {} (Vector's rule). [unconfirmed] null, [] and whitespace-only strings are also
 * treated as blank; Splunk documents only "cannot be blank".
 */
function isBlank(event: unknown): boolean {
  if (event === null) return true;
  if (typeof event === 'string') return event.trim() === '';
  if (Array.isArray(event)) return event.length === 0;
  if (isPlainObject(event)) return Object.keys(event).length === 0;
  return false;
}

function checkTime(time: unknown): number | undefined | 'invalid' {
  if (time === undefined) return undefined;
  if (typeof time === 'number') return Number.isFinite(time) && time >= 0 ? time : 'invalid';
  if (typeof time === 'string' && NUMERIC_TIME.test(time)) return Number(time);
  return 'invalid';
}

/**
 * Indexed fields must be a flat object of strings, numbers or arrays of those. Nested objects give
 * code 15 ([unconfirmed] trigger, per siem-wire.md §1.5); so, strictly, do booleans and nulls.
 */
function checkFields(fields: unknown): Record<string, HecFieldValue> | undefined | string {
  if (fields === undefined) return undefined;
  if (!isPlainObject(fields)) return '"fields" must be an object';
  for (const [key, v] of Object.entries(fields)) {
    const ok = isFieldScalar(v) || (Array.isArray(v) && v.every(isFieldScalar));
    if (!ok) return `indexed field "${key}" must be a string, a number or an array of those`;
  }
  return fields as Record<string, HecFieldValue>;
}

function isFieldScalar(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function skipWhitespace(text: string, pos: number): number {
  let i = pos;
  while (i < text.length && JSON_WHITESPACE.has(text[i] as string)) i += 1;
  return i;
}

/** End (exclusive) of the JSON value starting at `start`, or -1 if it never closes. Not a validator. */
function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return stringEnd(text, start);
  if (first !== '{' && first !== '[') {
    let i = start;
    while (i < text.length && !JSON_WHITESPACE.has(text[i] as string) && !'{["'.includes(text[i] as string)) {
      i += 1;
    }
    return i === start ? start + 1 : i;
  }
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === '{' || c === '[') {
      depth += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function stringEnd(text: string, quote: number): number {
  for (let i = quote + 1; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') i += 1;
    else if (c === '"') return i + 1;
  }
  return -1;
}
