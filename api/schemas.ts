// Response shapes, as zod schemas: they document the API in the OpenAPI document and let tests check
// responses against the published contract.
import { z } from 'zod';

export const AuditDetailSchema = z.object({
  id: z.string(),
  zone_id: z.string(),
  event_type: z.string(),
  request_id: z.string().nullable(),
  decision: z.string().nullable(),
  policy_set_id: z.string().nullable(),
  policy_set_version_id: z.string().nullable(),
  manifest_sha: z.string().nullable(),
  evaluation_status: z.string().nullable(),
  determining_policies_json: z.unknown(),
  diagnostics_json: z.unknown(),
  metadata_json: z.record(z.string(), z.unknown()).nullable().describe('sensitive keys redacted'),
  occurred_at: z.string(),
  ingested_at: z.string(),
});

export const ListPageSchema = z.object({
  items: z.array(AuditDetailSchema),
  next_cursor: z.string().nullable(),
});

const FaultSchema = z.object({
  zone_id: z.string(),
  chain_seq: z.number(),
  kind: z.string().describe('content_mismatch | chain_break | hmac_mismatch | tail_truncated | ...'),
  event_id: z.string().nullable(),
  detail: z.string(),
});

export const IntegritySchema = z.object({
  status: z.enum(['verified', 'failed', 'hmac_not_checked']),
  checked: z.number(),
  hmac_checked: z.boolean(),
  faults: z.array(FaultSchema),
});

export const DecisionTraceSchema = z.object({
  request_id: z.string(),
  zone_id: z.string(),
  final_decision: z
    .string()
    .describe('deny if any event denied, else the last event’s decision, else unknown'),
  denied: z.array(
    z.object({
      event_id: z.string(),
      event_type: z.string(),
      evaluation_status: z.string().nullable(),
      determining_policies: z.array(z.string()),
      diagnostics: z.unknown(),
      metadata: z.record(z.string(), z.unknown()).nullable(),
      policy_input: z.record(z.string(), z.unknown()),
    }),
  ),
  events: z.array(AuditDetailSchema),
  timeline: z.array(
    z.object({
      stage: z.string(),
      event_id: z.string(),
      event_type: z.string(),
      request_id: z.string().nullable(),
      decision: z.string().nullable(),
      evaluation_status: z.string().nullable(),
      occurred_at: z.string(),
      summary: z.string(),
    }),
  ),
  gaps: z.array(
    z.object({ stage: z.string(), kind: z.string(), after_event_id: z.string(), message: z.string() }),
  ),
  related_request_ids: z.array(z.string()),
  integrity: IntegritySchema,
});

export const VerifyReportSchema = z.looseObject({
  ok: z.boolean(),
  checked: z.number(),
  zones: z.array(
    z.looseObject({ zone_id: z.string(), from_seq: z.number(), to_seq: z.number(), checked: z.number() }),
  ),
  faults: z.array(FaultSchema),
  truncated: z.boolean(),
  duration_ms: z.number(),
});

export const IngestedSchema = z.object({
  event_id: z.string(),
  ingested: z.boolean(),
  zone_id: z.string().optional(),
  ledger_seq: z.number().optional(),
  occurred_at: z.string().optional(),
  dead_letter: z
    .object({ id: z.string(), reason: z.string(), replayable: z.boolean() })
    .nullable()
    .optional(),
});

export const DeadLetterEntrySchema = z.object({
  id: z.string(),
  source_id: z.string().nullable(),
  reason: z.string(),
  received_at: z.number(),
  age_seconds: z.number(),
  replayable: z.boolean(),
  event_id: z.string().nullable(),
  zone_id: z.string().nullable(),
  event_type: z.string().nullable(),
  request_id: z.string().nullable(),
  decision: z.string().nullable(),
  source_sig: z.string().nullable(),
});
