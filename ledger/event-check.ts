// The event contract as a hand-written predicate: the worker's hot path checks every event with it
// and asks zod (AuditEventSchema) for the exact message only when it fails. A property test keeps the
// two in agreement.
import { EVENT_LIMITS, RFC3339 } from './event.ts';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

const str = (v: unknown, max: number, min = 0): boolean =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const optStr = (v: unknown, max: number): boolean => v === undefined || str(v, max);

function objectArrayOrNull(v: unknown): boolean {
  if (v === null) return true;
  if (!Array.isArray(v)) return false;
  for (const item of v) if (!isPlainObject(item)) return false;
  return true;
}

function metadataOk(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (!isPlainObject(v)) return false;
  const L = EVENT_LIMITS;
  if (!optStr(v.session_id, L.indexedMetadataLength)) return false;
  if (!optStr(v.agent_session_id, L.indexedMetadataLength)) return false;
  if (!optStr(v.application_id, L.indexedMetadataLength)) return false;
  const labels = v.agent_labels;
  if (labels !== undefined) {
    if (!Array.isArray(labels) || labels.length > L.labelCount) return false;
    for (const l of labels) if (!str(l, L.labelLength)) return false;
  }
  return true;
}

/** True exactly when AuditEventSchema would accept `e`. */
export function isValidEvent(e: Record<string, unknown>): boolean {
  const L = EVENT_LIMITS;
  return (
    str(e.id, L.idLength, 1) &&
    str(e.zone_id, L.zoneIdLength, 1) &&
    str(e.event_type, L.eventTypeLength, 1) &&
    str(e.request_id, L.requestIdLength) &&
    str(e.decision, L.decisionLength) &&
    optStr(e.policy_set_id, L.shortTextLength) &&
    optStr(e.policy_set_version_id, L.shortTextLength) &&
    optStr(e.manifest_sha, L.shortTextLength) &&
    str(e.evaluation_status, L.shortTextLength) &&
    objectArrayOrNull(e.determining_policies_json) &&
    objectArrayOrNull(e.diagnostics_json) &&
    metadataOk(e.metadata_json) &&
    typeof e.occurred_at === 'string' &&
    RFC3339.test(e.occurred_at)
  );
}
