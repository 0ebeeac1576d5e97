// Caracal's audit routes (list, by-request, explain) and ledgerhub's additions around them: zones,
// finding a request's zone, chain verification over a time range, and read-after-write.
import { z } from 'zod';
import { csvRow } from '../../ledger/csv.ts';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import { KNOWN_DECISIONS } from '../../ledger/event.ts';
import { explainRequest, linkedRequestIds } from '../../ledger/explain.ts';
import { waitForIngested } from '../../ledger/ingestion-watermark.ts';
import { decodeCursor } from '../../ledger/list-cursor.ts';
import {
  AUDIT_METADATA_FIELDS,
  AUDIT_ROW_FIELDS,
  eventById,
  eventsByRequest,
  isoTimestamp,
  isProjectableField,
  listEvents,
  listZones,
  projectFields,
  zonesOfRequest,
} from '../../ledger/queries.ts';
import { verifyEvents } from '../../ledger/request-integrity.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import type { ApiDeps } from '../deps.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import {
  AuditDetailSchema,
  DecisionTraceSchema,
  IngestedSchema,
  ListPageSchema,
  VerifyReportSchema,
} from '../schemas.ts';

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.\-:]{1,128}$/;
const isoTime = z.iso.datetime({ offset: true });
const zoneId = z.string().min(1).max(255).describe('zone id');
const requestId = z
  .string()
  .regex(REQUEST_ID_PATTERN, 'must match ^[A-Za-z0-9_.\\-:]{1,128}$')
  .describe('request id');
const shortText = z.string().min(1).max(255);

const ZoneParams = z.object({ zoneId });
const RequestParams = z.object({ zoneId, requestId });

const ListQuery = z.object({
  since: isoTime.optional().describe('occurred_at >= since (RFC 3339)'),
  until: isoTime.optional().describe('occurred_at < until (RFC 3339)'),
  request_id: requestId.optional(),
  decision: z.enum(KNOWN_DECISIONS).optional(),
  event_type: z
    .string()
    .max(2100)
    .transform((s) => s.split(','))
    .pipe(
      z
        .array(
          z.string().regex(/^[\w.:-]{1,128}$/, 'event types are [A-Za-z0-9_.:-], at most 128 characters'),
        )
        .min(1)
        .max(16, 'at most 16 event types'),
    )
    .optional()
    .describe('one event type or a comma list of at most 16'),
  application_id: shortText.optional(),
  session_id: shortText.optional().describe('matches metadata agent_session_id (Caracal naming)'),
  authority_record_id: shortText.optional().describe('matches metadata session_id (Caracal naming)'),
  label: shortText.optional().describe('matches one of metadata agent_labels'),
  format: z.enum(['json', 'csv']).default('json'),
  fields: z.string().max(2000).optional().describe('comma list of row and metadata fields to return'),
  cursor: z.string().max(1024).optional().describe('next_cursor of the previous page'),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .default(100),
});

const VerifyQuery = z.object({
  since: isoTime.optional(),
  until: isoTime.optional(),
});

const IngestedParams = z.object({ eventId: z.string().min(1).max(255) });
const IngestedQuery = z.object({
  wait: z
    .string()
    .regex(/^\d{1,2}(\.\d+)?$/, 'seconds, at most 60')
    .transform(Number)
    .pipe(z.number().max(60))
    .optional()
    .describe('seconds to wait for the event to be stored'),
});

const CSV_DEFAULT_FIELDS = [...AUDIT_ROW_FIELDS, ...AUDIT_METADATA_FIELDS];

function csvFilename(zone: string): string {
  return `audit-${zone.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}.csv`;
}

export function auditRoutes(deps: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/zones',
      tag: 'audit',
      summary: 'Zones in the ledger, with event counts (ledgerhub)',
      scope: 'audit:read',
      responses: {
        200: {
          description: 'zones',
          schema: z.object({
            zones: z.array(
              z.object({ zone_id: z.string(), events: z.number(), last_event_at: z.string().nullable() }),
            ),
          }),
        },
      },
      handler: async () => ({ zones: await listZones(deps.pool) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/zones/:zoneId/audit',
      tag: 'audit',
      summary: 'List audit events (Caracal-compatible)',
      description: 'Ordered by occurred_at then id, descending. next_cursor is set when the page is full.',
      scope: 'audit:read',
      params: ZoneParams,
      query: ListQuery,
      responses: {
        200: { description: 'a page of events (or CSV with format=csv)', schema: ListPageSchema },
        400: { description: '`invalid_query`, `invalid_fields` or `invalid_cursor`' },
      },
      handler: async ({ params, query, reply }) => {
        const fields = query.fields
          ?.split(',')
          .map((f) => f.trim())
          .filter(Boolean);
        const bad = fields?.find((f) => !isProjectableField(f));
        if (bad !== undefined || (fields && fields.length === 0)) {
          throw new LedgerhubError(
            Errors.invalidFields,
            `fields: "${(bad ?? '').slice(0, 64)}" cannot be selected`,
          );
        }
        const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        if (cursor === null)
          throw new LedgerhubError(Errors.invalidCursor, 'cursor: not a cursor this server issued');
        const page = await listEvents(deps.pool, {
          zoneId: params.zoneId,
          since: query.since,
          until: query.until,
          requestId: query.request_id,
          decisions: query.decision ? [query.decision] : undefined,
          eventTypes: query.event_type,
          applicationId: query.application_id,
          sessionId: query.session_id,
          authorityRecordId: query.authority_record_id,
          label: query.label,
          cursor,
          limit: query.limit,
        });
        if (query.format === 'csv') {
          const columns = fields ?? CSV_DEFAULT_FIELDS;
          let text = csvRow(columns);
          for (const item of page.items) text += csvRow(columns.map((c) => projectFields(item, [c])[c]));
          reply.header('content-type', 'text/csv; charset=utf-8');
          reply.header('content-disposition', `attachment; filename="${csvFilename(params.zoneId)}"`);
          if (page.next_cursor) reply.header('x-next-cursor', page.next_cursor);
          return text;
        }
        return fields
          ? { items: page.items.map((i) => projectFields(i, fields)), next_cursor: page.next_cursor }
          : page;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/zones/:zoneId/audit/by-request/:requestId',
      tag: 'audit',
      summary: 'All events of one request, oldest first (Caracal-compatible)',
      scope: 'audit:read',
      params: RequestParams,
      paramsError: Errors.invalidRequestId,
      responses: {
        200: { description: 'events', schema: z.object({ items: z.array(AuditDetailSchema) }) },
        404: { description: '`request_not_found`' },
      },
      handler: async ({ params }) => {
        const items = await eventsByRequest(deps.pool, params.zoneId, [params.requestId]);
        if (items.length === 0)
          throw new LedgerhubError(
            Errors.requestNotFound,
            `no event carries request id ${params.requestId} in this zone`,
          );
        return { items };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/zones/:zoneId/audit/by-request/:requestId/explain',
      tag: 'audit',
      summary:
        'Why a request was decided as it was: Caracal’s decision trace plus timeline, gaps and integrity',
      scope: 'audit:read',
      params: RequestParams,
      paramsError: Errors.invalidRequestId,
      responses: {
        200: { description: 'the decision trace', schema: DecisionTraceSchema },
        404: { description: '`request_not_found`' },
      },
      handler: async ({ params }) => {
        const own = await eventsByRequest(deps.pool, params.zoneId, [params.requestId]);
        if (own.length === 0)
          throw new LedgerhubError(
            Errors.requestNotFound,
            `no event carries request id ${params.requestId} in this zone`,
          );
        // approvals are decided under the challenge id: follow it so the trace shows the decision
        const linked = linkedRequestIds(own);
        const related = linked.length > 0 ? await eventsByRequest(deps.pool, params.zoneId, linked) : [];
        const seen = new Set(own.map((e) => e.id));
        const events = [...own, ...related.filter((e) => !seen.has(e.id))];
        const trace = explainRequest(params.requestId, params.zoneId, events);
        const integrity = await verifyEvents(
          deps.pool,
          events.map((e) => e.id),
          deps.hmacKey,
        );
        return { ...trace, related_request_ids: linked, integrity };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/zones/:zoneId/audit/events/:eventId',
      tag: 'audit',
      summary: 'One event by id (ledgerhub)',
      scope: 'audit:read',
      params: z.object({ zoneId, eventId: z.string().min(1).max(255) }),
      responses: {
        200: { description: 'the event', schema: AuditDetailSchema },
        404: { description: '`not_found`' },
      },
      handler: async ({ params }) => {
        const e = await eventById(deps.pool, params.zoneId, params.eventId);
        if (!e) throw new LedgerhubError(Errors.notFound, `no event ${params.eventId} in this zone`);
        return e;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/whoami',
      tag: 'audit',
      summary: 'The token’s name and scopes (ledgerhub)',
      scope: 'audit:read',
      responses: {
        200: {
          description: 'the principal',
          schema: z.object({ name: z.string(), scopes: z.array(z.string()) }),
        },
      },
      handler: async ({ principal }) => ({ name: principal!.name, scopes: principal!.scopes }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit/requests/:requestId',
      tag: 'audit',
      summary: 'Which zones hold a request id (ledgerhub)',
      scope: 'audit:read',
      params: z.object({ requestId }),
      paramsError: Errors.invalidRequestId,
      responses: {
        200: {
          description: 'zones',
          schema: z.object({
            request_id: z.string(),
            zones: z.array(z.object({ zone_id: z.string(), events: z.number() })),
          }),
        },
        404: { description: '`request_not_found`' },
      },
      handler: async ({ params }) => {
        const zones = await zonesOfRequest(deps.pool, params.requestId);
        if (zones.length === 0)
          throw new LedgerhubError(Errors.requestNotFound, `no event carries request id ${params.requestId}`);
        return { request_id: params.requestId, zones };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/zones/:zoneId/audit/verify',
      tag: 'integrity',
      summary: 'Verify the zone’s chain over the range spanning an occurred_at window (ledgerhub)',
      scope: 'audit:read',
      params: ZoneParams,
      query: VerifyQuery,
      responses: {
        200: { description: 'the verification report (ok=false lists faults)', schema: VerifyReportSchema },
      },
      handler: async ({ params, query }) =>
        verifyLedger(deps.pool, {
          key: deps.hmacKey,
          zone: params.zoneId,
          since: query.since,
          until: query.until,
          maxFaults: 100,
        }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit/events/:eventId',
      tag: 'audit',
      summary:
        'Read-after-write: is an event stored yet (optionally wait), or was it dead-lettered (ledgerhub)',
      scope: 'audit:read',
      params: IngestedParams,
      query: IngestedQuery,
      responses: {
        200: { description: 'stored', schema: IngestedSchema },
        404: { description: 'not stored (yet); says whether it was dead-lettered', schema: IngestedSchema },
      },
      handler: async ({ params, query, reply }) => {
        const found = await waitForIngested(deps.pool, [params.eventId], (query.wait ?? 0) * 1000);
        const e = found.get(params.eventId);
        if (e) {
          return {
            event_id: e.id,
            ingested: true,
            zone_id: e.zone_id,
            ledger_seq: e.ledger_seq,
            occurred_at: isoTimestamp(e.occurred_at),
          };
        }
        const dead = await deps.deadLetters.findByEventId(params.eventId);
        reply.code(404);
        return {
          event_id: params.eventId,
          ingested: false,
          dead_letter: dead ? { id: dead.id, reason: dead.reason, replayable: dead.replayable } : null,
        };
      },
    }),
  ];
}
