// Caracal's audit event contract (schema version 2026-05-21): the zod schema, the event-type catalogue
// and its categories. Unknown fields are tolerated, as Caracal does; known fields are checked for type and size.
import { z } from 'zod';

export const EVENT_SCHEMA_VERSION = '2026-05-21';

/** Bounds that keep every value indexable by Postgres (btree entries must stay well under 2,700 bytes). */
export const EVENT_LIMITS = {
  idLength: 255,
  zoneIdLength: 255,
  eventTypeLength: 128,
  requestIdLength: 255,
  decisionLength: 32,
  shortTextLength: 512,
  indexedMetadataLength: 255,
  labelLength: 256,
  labelCount: 64,
} as const;

/** Decisions producers really emit; the JSON Schema's allow|deny enum is narrower than practice. */
export const KNOWN_DECISIONS = [
  'allow',
  'deny',
  'partial',
  'pending',
  'approved',
  'rejected',
  'consumed',
] as const;
export type KnownDecision = (typeof KNOWN_DECISIONS)[number];

export const EVENT_CATEGORIES = {
  authority: ['token_exchange', 'run_launch'],
  resource: ['gateway_resource_request'],
  approvals: ['step_up_issued', 'step_up_decided', 'step_up_consumed'],
  security: ['replay_detected', 'jti_collision'],
  control: ['control.invoke'],
  admin: ['credential_revealed', 'ledgerhub.retention.run', 'ledgerhub.export.run', 'ledgerhub.checkpoint'],
} as const satisfies Record<string, readonly string[]>;

export type EventCategory = keyof typeof EVENT_CATEGORIES;
export const KNOWN_EVENT_TYPES: readonly string[] = Object.values(EVENT_CATEGORIES).flat();

const categoryOfType = new Map<string, EventCategory>(
  Object.entries(EVENT_CATEGORIES).flatMap(([category, types]) =>
    types.map((t) => [t, category as EventCategory] as const),
  ),
);

/** The category of an event type; types this build does not know are `other`. */
export function categoryOf(eventType: string): EventCategory | 'other' {
  return categoryOfType.get(eventType) ?? 'other';
}

/** RFC 3339 with an explicit offset and at most nanosecond precision, as Go's time.RFC3339Nano produces. */
export const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const nonEmpty = (max: number) => text(max).min(1, 'must not be empty');

const indexedMetadata = text(EVENT_LIMITS.indexedMetadataLength).optional();

const plainObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype,
  'expected object',
);

const jsonObject = plainObject;

/** metadata_json: free-form, except the keys Postgres indexes, which must be short strings. */
export const MetadataSchema = plainObject
  .pipe(
    z.looseObject({
      session_id: indexedMetadata,
      agent_session_id: indexedMetadata,
      application_id: indexedMetadata,
      agent_labels: z.array(text(EVENT_LIMITS.labelLength)).max(EVENT_LIMITS.labelCount).optional(),
    }),
  )
  .nullable()
  .optional();

export const AuditEventSchema = z.looseObject({
  id: nonEmpty(EVENT_LIMITS.idLength),
  zone_id: nonEmpty(EVENT_LIMITS.zoneIdLength),
  event_type: nonEmpty(EVENT_LIMITS.eventTypeLength),
  request_id: text(EVENT_LIMITS.requestIdLength),
  decision: text(EVENT_LIMITS.decisionLength),
  policy_set_id: text(EVENT_LIMITS.shortTextLength).optional(),
  policy_set_version_id: text(EVENT_LIMITS.shortTextLength).optional(),
  manifest_sha: text(EVENT_LIMITS.shortTextLength).optional(),
  evaluation_status: text(EVENT_LIMITS.shortTextLength),
  determining_policies_json: z.array(jsonObject).nullable(),
  diagnostics_json: z.array(jsonObject).nullable(),
  metadata_json: MetadataSchema,
  occurred_at: z.string().regex(RFC3339, 'must be an RFC 3339 timestamp with an offset'),
});

export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** An event as producers build it: the JSON fields may hold any JSON the contract allows. */
export interface AuditEventInput {
  id: string;
  zone_id: string;
  event_type: string;
  request_id: string;
  decision: string;
  policy_set_id?: string;
  policy_set_version_id?: string;
  manifest_sha?: string;
  evaluation_status: string;
  determining_policies_json: Record<string, unknown>[] | null;
  diagnostics_json: Record<string, unknown>[] | null;
  metadata_json?: Record<string, unknown> | null;
  occurred_at: string;
  [extra: string]: unknown;
}

/** The first schema problem as one line: `<path>: <message>`. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid event';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
