// Dead letters, with Caracal's audit-service shapes: list, one entry with its source event, and replay
// of replayable entries (admin scope).
import { z } from 'zod';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import type { ApiDeps } from '../deps.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { DeadLetterEntrySchema } from '../schemas.ts';

const streamId = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'must be a stream id like 1700000000000-0');
const count = (max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(dflt);

export function dlqRoutes(deps: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/audit/dlq',
      tag: 'dead letters',
      summary: 'Dead letters, oldest first',
      scope: 'audit:read',
      query: z.object({
        limit: count(1000, 100),
        start: streamId.optional().describe('next_cursor of the previous page'),
      }),
      responses: {
        200: {
          description: 'entries',
          schema: z.object({
            entries: z.array(DeadLetterEntrySchema),
            next_cursor: z.string().nullable(),
            size: z.number(),
          }),
        },
      },
      handler: async ({ query }) => ({
        ...(await deps.deadLetters.list(query.limit, query.start)),
        size: await deps.deadLetters.size(),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit/dlq/:id',
      tag: 'dead letters',
      summary: 'One dead letter with its source event and fields',
      scope: 'audit:read',
      params: z.object({ id: streamId }),
      responses: {
        200: {
          description: 'the entry',
          schema: DeadLetterEntrySchema.extend({
            source_event: z.unknown(),
            fields: z.record(z.string(), z.string()),
          }),
        },
        404: { description: '`not_found`' },
      },
      handler: async ({ params }) => {
        const entry = await deps.deadLetters.get(params.id);
        if (!entry) throw new LedgerhubError(Errors.notFound, `no dead letter ${params.id}`);
        return entry;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/audit/dlq/replay',
      tag: 'dead letters',
      summary: 'Replay replayable dead letters onto the audit stream (admin)',
      description:
        'Only `transient_exceeded_max_deliveries:` and `pg_permanent_error:` entries are replayed, as in Caracal; ' +
        'each is re-added with its original id, data and sig and removed from the DLQ in one MULTI.',
      scope: 'audit:admin',
      query: z.object({
        limit: count(10000, 100),
        id: streamId.optional().describe('replay only this entry'),
      }),
      responses: {
        200: {
          description: 'what happened',
          schema: z.object({ scanned: z.number(), replayed: z.number(), skipped: z.number() }),
        },
      },
      handler: async ({ query, principal }) => {
        const result = await deps.deadLetters.replay(query.limit, query.id);
        deps.log.info({ ...result, by: principal?.name }, 'dead letters replayed');
        return result;
      },
    }),
  ];
}
