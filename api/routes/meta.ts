// Probes, metrics and the OpenAPI document.
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

export function metaRoutes(deps: ApiDeps, openapi: () => unknown): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/health',
      tag: 'operations',
      summary: 'Liveness',
      scope: null,
      responses: { 200: { description: 'alive', schema: z.object({ ok: z.literal(true) }) } },
      handler: async () => ({ ok: true }),
    }),
    defineRoute({
      method: 'GET',
      url: '/ready',
      tag: 'operations',
      summary: 'Readiness: Postgres and Redis answer',
      scope: null,
      responses: {
        200: { description: 'ready', schema: z.object({ ready: z.literal(true) }) },
        503: {
          description: '`postgres_unreachable` or `redis_unreachable`',
          schema: z.object({ ready: z.literal(false), reason: z.string() }),
        },
      },
      handler: async ({ reply }) => {
        try {
          await deps.pool.query('SELECT 1');
        } catch {
          reply.code(503);
          return { ok: false, ready: false, reason: 'postgres_unreachable' };
        }
        try {
          await deps.redis.ping();
        } catch {
          reply.code(503);
          return { ok: false, ready: false, reason: 'redis_unreachable' };
        }
        return { ready: true };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      tag: 'operations',
      summary: 'This API’s OpenAPI 3.1 document',
      scope: null,
      responses: { 200: { description: 'the document' } },
      handler: async () => openapi(),
    }),
  ];
}
