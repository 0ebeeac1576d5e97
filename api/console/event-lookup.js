// Finds one stored event by id for a detail link whose event is not on the current page. The API has
// no "event by id" route, so this asks where the event is stored (zone, occurred_at) and lists that
// zone over the millisecond around its occurred_at.
import { apiGet, paths } from './api.js';

const WINDOW_LIMIT = 1000;

/**
 * @param {string} eventId
 * @param {AbortSignal} signal
 * @returns {Promise<any | null>} the AuditDetail, or null when it is not stored
 */
export async function findEvent(eventId, signal) {
  let status;
  try {
    status = await apiGet(paths.eventStatus(eventId), { signal });
  } catch (err) {
    if (/** @type {any} */ (err).status === 404) return null;
    throw err;
  }
  const at = Date.parse(status.occurred_at);
  if (!status.ingested || !Number.isFinite(at)) return null;
  const since = new Date(Math.floor(at)).toISOString();
  const until = new Date(Math.floor(at) + 1).toISOString();
  const page = await apiGet(paths.audit(status.zone_id), {
    query: { since, until, limit: String(WINDOW_LIMIT) },
    signal,
  });
  return page.items.find((e) => e.id === eventId) ?? null;
}
