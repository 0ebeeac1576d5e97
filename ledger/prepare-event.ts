// Turns one event's JSON text into the row the ledger stores: parsed, checked against the contract,
// NUL-free, JSON fields in jsonb text form, occurred_at truncated to microseconds, content hash computed.
import { canonicalJson, parseJsonPreservingNumbers, sanitizeText } from './canonical-json.ts';
import { type ChainFields, contentSha256, parseOccurredAt } from './chain.ts';
import { AuditEventSchema, describeSchemaError } from './event.ts';
import { isValidEvent } from './event-check.ts';

/** What the batch insert needs of an event: identity, time, hash and its COPY text so far. */
export interface PreparedRow {
  id: string;
  zone_id: string;
  content_sha256: string;
  occurred_at_us: number;
  occurred_at_iso: string;
  /**
   * The COPY text (UTF-8 bytes) of every column known before the chain is extended, ending in a tab.
   * Bytes, not a string: they cross from the classification thread in one transferred buffer and go
   * to the socket as they are, so the main thread neither copies nor re-encodes ~1.5 KB per event.
   */
  copyPrefix: Uint8Array;
  /** The same for the id registry row (id, occurred_at, zone_id, content_sha256). */
  idsCopyPrefix: string;
}

/** An event ready for the chain: every hashed column plus what the batch insert needs. */
export interface PreparedEvent extends ChainFields, PreparedRow {
  ingest_signature: string | null;
}

/** The row part of a prepared event (what crosses from the classification thread). */
export function preparedRow(e: PreparedEvent): PreparedRow {
  return {
    id: e.id,
    zone_id: e.zone_id,
    content_sha256: e.content_sha256,
    occurred_at_us: e.occurred_at_us,
    occurred_at_iso: e.occurred_at_iso,
    copyPrefix: e.copyPrefix,
    idsCopyPrefix: e.idsCopyPrefix,
  };
}

/** One COPY text field: \N for NULL, backslash escapes for \ tab newline and carriage return. */
export function copyField(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (!/[\\\t\n\r]/.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** Caracal's text columns, in stored order. */
export const TEXT_COLUMNS = [
  'id',
  'zone_id',
  'event_type',
  'request_id',
  'decision',
  'policy_set_id',
  'policy_set_version_id',
  'manifest_sha',
  'evaluation_status',
] as const;

/** Caracal's JSON columns (jsonb), in stored order. */
export const JSON_COLUMNS = ['determining_policies_json', 'diagnostics_json', 'metadata_json'] as const;

/** Caracal's content columns in stored order: what the chain hashes and what every export carries. */
export const CONTENT_COLUMNS = [...TEXT_COLUMNS, ...JSON_COLUMNS, 'occurred_at'] as const;

/** An event's values for CONTENT_COLUMNS, as COPY text input (JSON in jsonb form, occurred_at in UTC). */
export function contentValues(e: PreparedEvent): (string | null)[] {
  return [
    e.id,
    e.zone_id,
    e.event_type,
    e.request_id,
    e.decision,
    e.policy_set_id,
    e.policy_set_version_id,
    e.manifest_sha,
    e.evaluation_status,
    e.determining_policies_json,
    e.diagnostics_json,
    e.metadata_json,
    e.occurred_at_iso,
  ];
}

const EMPTY = new Uint8Array(0);

/**
 * Moves the COPY prefixes of a batch into one standalone buffer (views into it replace each row's own),
 * so the batch crosses threads by transferring that buffer instead of cloning every prefix.
 */
export function packCopyPrefixes(rows: PreparedRow[]): ArrayBuffer {
  let total = 0;
  for (const r of rows) total += r.copyPrefix.byteLength;
  const packed = new Uint8Array(new ArrayBuffer(total));
  let offset = 0;
  for (const r of rows) {
    const n = r.copyPrefix.byteLength;
    packed.set(r.copyPrefix, offset);
    r.copyPrefix = packed.subarray(offset, offset + n);
    offset += n;
  }
  return packed.buffer;
}

export type PrepareResult = { ok: true; event: PreparedEvent } | { ok: false; error: string };

/** Prepares one event from its wire JSON. Errors are one line, suitable for `json_parse_error:<msg>`. */
export function prepareEvent(data: string, signature: string | null): PrepareResult {
  let parsed: unknown;
  try {
    parsed = parseJsonPreservingNumbers(data);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, error: 'event must be a JSON object' };
  }
  const raw = parsed as Record<string, unknown>;
  // the hand-written check is the hot path; zod explains a failure in words
  if (!isValidEvent(raw)) {
    const checked = AuditEventSchema.safeParse(raw);
    return {
      ok: false,
      error: `schema: ${checked.success ? 'invalid event' : describeSchemaError(checked.error)}`,
    };
  }

  const occurred = parseOccurredAt(raw['occurred_at'] as string);
  if (!occurred)
    return { ok: false, error: 'schema: occurred_at: not a valid instant between 1970 and 2262' };

  const fields = {} as Record<(typeof TEXT_COLUMNS)[number], string | null>;
  for (const name of TEXT_COLUMNS) {
    const v = raw[name];
    fields[name] = typeof v === 'string' ? sanitizeText(v) : null;
  }
  if (!fields.id || !fields.zone_id || !fields.event_type) {
    return {
      ok: false,
      error: 'schema: id, zone_id and event_type must not be empty after removing NUL characters',
    };
  }

  const json = {} as Record<(typeof JSON_COLUMNS)[number], string | null>;
  try {
    for (const name of JSON_COLUMNS) {
      const v = raw[name];
      json[name] = v === undefined || v === null ? null : canonicalJson(v);
    }
  } catch (err) {
    return { ok: false, error: `schema: ${(err as Error).message}` };
  }

  const event: PreparedEvent = {
    id: fields.id,
    zone_id: fields.zone_id,
    event_type: fields.event_type,
    request_id: fields.request_id,
    decision: fields.decision,
    policy_set_id: fields.policy_set_id,
    policy_set_version_id: fields.policy_set_version_id,
    manifest_sha: fields.manifest_sha,
    evaluation_status: fields.evaluation_status,
    determining_policies_json: json.determining_policies_json,
    diagnostics_json: json.diagnostics_json,
    metadata_json: json.metadata_json,
    occurred_at_us: occurred.us,
    occurred_at_iso: occurred.iso,
    content_sha256: '',
    ingest_signature: signature,
    copyPrefix: EMPTY,
    idsCopyPrefix: '',
  };
  event.content_sha256 = contentSha256(event);
  event.copyPrefix = Buffer.from(
    `${[...contentValues(event), event.content_sha256, event.ingest_signature].map(copyField).join('\t')}\t`,
    'utf8',
  );
  event.idsCopyPrefix = `${copyField(event.id)}\t${event.occurred_at_iso}\t${copyField(event.zone_id)}\t${event.content_sha256}\t`;
  return { ok: true, event };
}
