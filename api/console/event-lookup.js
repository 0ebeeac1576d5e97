// Finds one stored event by id for a detail link whose event is not on the current page: asks where
// it is stored (its zone), then fetches it from that zone.
import { apiGet, paths } from './api.js';

/**
 * @param {string} eventId
 * @param {AbortSignal} signal
 * @returns {Promise<any | null>} the AuditDetail, or null when it is not stored
 */
export async function findEvent(eventId, signal) {
  try {
    const status = await apiGet(paths.eventStatus(eventId), { signal });
    if (!status.ingested) return null;
    return await apiGet(paths.event(status.zone_id, eventId), { signal });
  } catch (err) {
    if (/** @type {any} */ (err).status === 404) return null;
    throw err;
  }
}
