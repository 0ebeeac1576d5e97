// Turns one event's JSON text into the row the ledger stores: parsed, checked against the contract,
// NUL-free, JSON fields in jsonb text form, occurred_at truncated to microseconds, content hash computed.
import { canonicalJson, parseJsonPreservingNumbers, sanitizeJson, sanitizeText } from './canonical-json.ts';
import { type ChainFields, contentSha256, parseOccurredAt } from './chain.ts';
import { AuditEventSchema, describeSchemaError } from './event.ts';

/** An event ready for the chain: every hashed column plus what the batch insert needs. */
export interface PreparedEvent extends ChainFields {
  occurred_at_iso: string;
  content_sha256: string;
  ingest_signature: string | null;
}

export type PrepareResult = { ok: true; event: PreparedEvent } | { ok: false; error: string };

const TEXT_FIELDS = [
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

const JSON_FIELDS = ['determining_policies_json', 'diagnostics_json', 'metadata_json'] as const;

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
  // numbers kept as source text only occur inside free-form JSON, where the schema allows any value
  const checked = AuditEventSchema.safeParse(raw);
  if (!checked.success) return { ok: false, error: `schema: ${describeSchemaError(checked.error)}` };

  const occurred = parseOccurredAt(raw['occurred_at'] as string);
  if (!occurred)
    return { ok: false, error: 'schema: occurred_at: not a valid instant between 1970 and 2262' };

  const fields = {} as Record<(typeof TEXT_FIELDS)[number], string | null>;
  for (const name of TEXT_FIELDS) {
    const v = raw[name];
    fields[name] = typeof v === 'string' ? sanitizeText(v) : null;
  }
  if (!fields.id || !fields.zone_id || !fields.event_type) {
    return {
      ok: false,
      error: 'schema: id, zone_id and event_type must not be empty after removing NUL characters',
    };
  }

  const json = {} as Record<(typeof JSON_FIELDS)[number], string | null>;
  try {
    for (const name of JSON_FIELDS) {
      const v = raw[name];
      json[name] = v === undefined || v === null ? null : canonicalJson(sanitizeJson(v));
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
  };
  event.content_sha256 = contentSha256(event);
  return { ok: true, event };
}
