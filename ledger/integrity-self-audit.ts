// The ledger audits itself: retention and export runs are recorded as events on the audit stream,
// signed like any producer's, so they are chained and verified with everything else.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { AuditEventInput } from './event.ts';
import { uuidv7 } from './ids.ts';
import { encodeStreamFields, type HmacKey } from './stream-codec.ts';

export type MaintenanceEventType =
  | 'ledgerhub.retention.run'
  | 'ledgerhub.export.run'
  | 'ledgerhub.checkpoint';

export interface MaintenanceRun {
  type: MaintenanceEventType;
  zone: string;
  /** `complete`, or `failed` with diagnostics saying why. */
  status: 'complete' | 'failed';
  policy: Record<string, unknown>;
  metadata: Record<string, unknown>;
  diagnostics?: Record<string, unknown>[];
  at?: Date;
}

export function maintenanceEvent(run: MaintenanceRun): AuditEventInput {
  const at = run.at ?? new Date();
  const id = uuidv7(at.getTime());
  return {
    id,
    zone_id: run.zone,
    event_type: run.type,
    request_id: id,
    decision: run.status === 'complete' ? 'allow' : 'deny',
    evaluation_status: run.status,
    determining_policies_json: [{ policy: run.type.replace(/^ledgerhub\.|\.run$/g, ''), ...run.policy }],
    diagnostics_json: run.diagnostics ?? [],
    metadata_json: { host: hostname(), ...run.metadata },
    occurred_at: at.toISOString(),
  };
}

/** XADDs the event (signed when a key is set) and returns its event id. */
export async function recordMaintenanceRun(
  redis: Redis,
  stream: string,
  key: HmacKey | null,
  run: MaintenanceRun,
): Promise<string> {
  const event = maintenanceEvent(run);
  await redis.xadd(stream, '*', ...encodeStreamFields(event.id, JSON.stringify(event), key));
  return event.id;
}
