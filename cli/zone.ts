// Resolving the zone a CLI command works on: --zone, LEDGERHUB_ZONE, the only zone there is, or the
// zone holding a request id.
import { Errors, LedgerhubError } from '../ledger/errors.ts';
import type { ApiClient } from './api-client.ts';

export async function resolveZone(
  client: ApiClient,
  given: string | undefined,
  fallback: string,
  requestId?: string,
): Promise<string> {
  if (given) return given;
  if (requestId) {
    const r = await client.get<{ zones: { zone_id: string }[] }>(
      `/v1/audit/requests/${encodeURIComponent(requestId)}`,
    );
    if (r.zones.length === 1) return r.zones[0]!.zone_id;
    throw new LedgerhubError(
      Errors.invalidQuery,
      `request ${requestId} appears in several zones (${r.zones.map((z) => z.zone_id).join(', ')}); pass --zone`,
    );
  }
  if (fallback) return fallback;
  const { zones } = await client.get<{ zones: { zone_id: string }[] }>('/v1/zones');
  if (zones.length === 1) return zones[0]!.zone_id;
  throw new LedgerhubError(
    Errors.invalidQuery,
    zones.length === 0
      ? 'the ledger holds no zones yet'
      : `pass --zone (or set LEDGERHUB_ZONE); zones: ${zones.map((z) => z.zone_id).join(', ')}`,
  );
}
