// GET /v1/zones/:zoneId/audit/stream: server-sent events of new commits matching the list's filters,
// resumable from Last-Event-ID (a ledger_seq), with heartbeats; served by the TailHub.
import { z } from 'zod';
import { parseOccurredAt } from '../../ledger/chain.ts';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import { KNOWN_DECISIONS } from '../../ledger/event.ts';
import { type AuditFilter, recentEvents } from '../../ledger/queries.ts';
import type { ApiDeps } from '../deps.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const isoTime = z.iso.datetime({ offset: true });
const shortText = z.string().min(1).max(255);

const StreamQuery = z.object({
  since: isoTime.optional(),
  until: isoTime.optional(),
  request_id: z
    .string()
    .regex(/^[A-Za-z0-9_.\-:]{1,128}$/)
    .optional(),
  decision: z.enum(KNOWN_DECISIONS).optional(),
  event_type: z
    .string()
    .max(2100)
    .transform((s) => s.split(','))
    .pipe(
      z
        .array(z.string().regex(/^[\w.:-]{1,128}$/))
        .min(1)
        .max(16),
    )
    .optional(),
  application_id: shortText.optional(),
  session_id: shortText.optional(),
  authority_record_id: shortText.optional(),
  label: shortText.optional(),
  backfill: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.number().max(1000))
    .optional()
    .describe('send the newest N matching events first (ignored when resuming with Last-Event-ID)'),
  last_event_id: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional()
    .describe('same as the Last-Event-ID header'),
});

export function streamRoutes(deps: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/zones/:zoneId/audit/stream',
      tag: 'audit',
      summary: 'Live tail as server-sent events (ledgerhub)',
      description:
        'Each event: `id: <ledger_seq>`, `event: audit`, `data: <AuditDetail + ledger_seq>`. Reconnect with ' +
        '`Last-Event-ID` to resume without loss. Comment heartbeats keep idle streams open. A client that ' +
        'falls more than LEDGERHUB_SSE_CLIENT_BUFFER events behind receives `event: error` with ' +
        '`slow_consumer` and is disconnected; it never slows other clients.',
      scope: 'audit:read',
      params: z.object({ zoneId: z.string().min(1).max(255) }),
      query: StreamQuery,
      responses: {
        200: { description: 'an event stream', contentType: 'text/event-stream' },
        400: { description: '`invalid_query`' },
        503: { description: 'too many live-tail streams' },
      },
      handler: async ({ params, query, req, reply }) => {
        const header = req.headers['last-event-id'];
        const resumeText = typeof header === 'string' && header !== '' ? header : query.last_event_id;
        if (resumeText !== undefined && !/^\d{1,18}$/.test(resumeText)) {
          throw new LedgerhubError(Errors.invalidQuery, 'Last-Event-ID must be a ledger_seq (digits)');
        }
        const filter: AuditFilter = {
          zoneId: params.zoneId,
          since: query.since ? parseOccurredAt(query.since)?.iso : undefined,
          until: query.until ? parseOccurredAt(query.until)?.iso : undefined,
          requestId: query.request_id,
          decisions: query.decision ? [query.decision] : undefined,
          eventTypes: query.event_type,
          applicationId: query.application_id,
          sessionId: query.session_id,
          authorityRecordId: query.authority_record_id,
          label: query.label,
        };
        const resume = resumeText === undefined ? null : Number(resumeText);
        const head = deps.tail.head;
        const backfill =
          resume === null && query.backfill
            ? await recentEvents(deps.pool, filter, head, query.backfill)
            : [];
        if (!deps.tail.hasRoom())
          throw new LedgerhubError(Errors.unavailable, 'too many live-tail streams; try again later');
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        if (!deps.tail.attach(res, filter, resume ?? head, backfill)) {
          res.write(
            `event: error\ndata: ${JSON.stringify({ error: 'unavailable', message: 'too many live-tail streams' })}\n\n`,
          );
          res.end();
        }
        return undefined;
      },
    }),
  ];
}
