// Caracal's retention setting: GET and PUT /v1/audit-retention ({retention_days, max_days, updated_by,
// updated_at}); a value above AUDIT_RETENTION_DAYS is refused with retention_above_limit.
import { z } from 'zod';
import { getRetention, setRetention } from '../../ledger/retention-settings.ts';
import type { ApiDeps } from '../deps.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const RetentionSchema = z.object({
  retention_days: z.number(),
  max_days: z.number(),
  updated_by: z.string().nullable(),
  updated_at: z.string().nullable(),
});

export function retentionRoutes(deps: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/audit-retention',
      tag: 'retention',
      summary: 'The retention in force (Caracal-compatible)',
      scope: 'audit:read',
      responses: { 200: { description: 'retention', schema: RetentionSchema } },
      handler: async () => getRetention(deps.pool, deps.retentionCeilingDays),
    }),
    defineRoute({
      method: 'PUT',
      url: '/v1/audit-retention',
      tag: 'retention',
      summary: 'Shorten (or restore) retention, up to AUDIT_RETENTION_DAYS (admin; Caracal-compatible)',
      scope: 'audit:admin',
      body: z.strictObject({ retention_days: z.unknown().describe('an integer of at least 1') }),
      responses: {
        200: { description: 'the new setting', schema: RetentionSchema },
        400: { description: '`invalid_body` or `retention_above_limit` (with max_days)' },
      },
      handler: async ({ body, principal }) => {
        const setting = await setRetention(
          deps.pool,
          body.retention_days,
          principal?.name ?? null,
          deps.retentionCeilingDays,
        );
        deps.log.info({ retention_days: setting.retention_days, by: principal?.name }, 'retention changed');
        return setting;
      },
    }),
  ];
}
