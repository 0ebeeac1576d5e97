// Sink health and sink dead letters, read from what the forwarder records in Postgres: GET /v1/sinks,
// GET /v1/sinks/:name, its dead letters, and (admin) replay and re-enable.
import { z } from 'zod';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import {
  enableSink,
  getSinkHealth,
  listDeadLetters,
  listSinkHealth,
  requestReplay,
} from '../../ledger/sinks/health-store.ts';
import { SinkName } from '../../ledger/sinks/spec.ts';
import type { ApiDeps } from '../deps.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const SinkHealthSchema = z.looseObject({
  name: z.string(),
  type: z.string(),
  format: z.string(),
  active: z.boolean(),
  breaker: z
    .string()
    .describe('closed (delivering), open / half_open (paused and probed), disabled (410 Gone)'),
  deliveredThrough: z.number().describe('ledger_seq delivered (or dead-lettered) through'),
  lagEvents: z.number(),
  lagSeconds: z.number(),
  deliveredEvents: z.number(),
  deadLetters: z.number(),
  lastSuccessAt: z.string().nullable(),
  lastError: z
    .looseObject({ at: z.string(), kind: z.string(), code: z.string(), message: z.string() })
    .nullable(),
});

const Params = z.object({ name: SinkName });
const limit = (max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(dflt);

export function sinkRoutes(deps: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/sinks',
      tag: 'sinks',
      summary:
        'Every sink’s delivery health: delivered, lag in events and seconds, dead letters, last success and error',
      scope: 'audit:read',
      responses: { 200: { description: 'sinks', schema: z.object({ sinks: z.array(SinkHealthSchema) }) } },
      handler: async () => ({ sinks: await listSinkHealth(deps.pool) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/sinks/:name',
      tag: 'sinks',
      summary: 'One sink’s delivery health',
      scope: 'audit:read',
      params: Params,
      responses: {
        200: { description: 'the sink', schema: SinkHealthSchema },
        404: { description: '`sink_not_found`' },
      },
      handler: async ({ params }) => {
        const h = await getSinkHealth(deps.pool, params.name);
        if (!h) throw new LedgerhubError(Errors.sinkNotFound, `no sink named ${params.name}`);
        return h;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/sinks/:name/dead-letters',
      tag: 'sinks',
      summary: 'A sink’s dead letters in ledger order, with the error of each',
      scope: 'audit:read',
      params: Params,
      query: z.object({
        limit: limit(1000, 100),
        after_seq: z
          .string()
          .regex(/^\d{1,18}$/)
          .transform(Number)
          .optional()
          .describe('next_after_seq of the previous page'),
      }),
      responses: { 200: { description: 'a page' }, 404: { description: '`sink_not_found`' } },
      handler: async ({ params, query }) =>
        listDeadLetters(deps.pool, params.name, { limit: query.limit, afterSeq: query.after_seq }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/sinks/:name/dead-letters/replay',
      tag: 'sinks',
      summary: 'Deliver a sink’s dead letters again, oldest first (admin)',
      scope: 'audit:admin',
      params: Params,
      query: z.object({ limit: limit(1_000_000, 1_000_000) }),
      responses: {
        200: {
          description: 'how many were asked for',
          schema: z.object({ sink: z.string(), requested: z.number() }),
        },
      },
      handler: async ({ params, query, principal }) => {
        const requested = await requestReplay(deps.pool, params.name, { limit: query.limit });
        deps.log.info(
          { sink: params.name, requested, by: principal?.name },
          'sink dead letters replay requested',
        );
        return { sink: params.name, requested };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/sinks/:name/enable',
      tag: 'sinks',
      summary: 'Re-enable a sink disabled by 410 Gone (admin)',
      scope: 'audit:admin',
      params: Params,
      responses: {
        200: { description: 'enabled', schema: z.object({ sink: z.string(), enabled: z.literal(true) }) },
      },
      handler: async ({ params, principal }) => {
        await enableSink(deps.pool, params.name);
        deps.log.info({ sink: params.name, by: principal?.name }, 'sink re-enabled');
        return { sink: params.name, enabled: true as const };
      },
    }),
  ];
}
