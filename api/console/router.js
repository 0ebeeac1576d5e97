// Hash routes: parses location.hash into a route and builds hashes back, so every view is linkable and
// the back button works. Path segments are URI-encoded; filters and paging live in the query.

/**
 * @typedef {{ name: 'home' }
 *   | { name: 'audit', zone: string, query: URLSearchParams }
 *   | { name: 'tail', zone: string, query: URLSearchParams }
 *   | { name: 'trace', zone: string, requestId: string, query: URLSearchParams }
 *   | { name: 'find-request', requestId: string }
 *   | { name: 'dlq', entryId: string | null, query: URLSearchParams }
 *   | { name: 'not-found', path: string }} Route
 */

/**
 * @param {string} hash location.hash
 * @returns {Route}
 */
export function parseRoute(hash) {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  let segments;
  try {
    segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { name: 'not-found', path };
  }
  const [first, second, third, fourth] = segments;
  if (segments.length === 0) return { name: 'home' };
  if (first === 'zones' && second !== undefined) {
    if (third === 'audit' && segments.length === 3) return { name: 'audit', zone: second, query };
    if (third === 'tail' && segments.length === 3) return { name: 'tail', zone: second, query };
    if (third === 'requests' && fourth !== undefined && segments.length === 4) {
      return { name: 'trace', zone: second, requestId: fourth, query };
    }
  }
  if (first === 'requests' && second !== undefined && segments.length === 2) {
    return { name: 'find-request', requestId: second };
  }
  if (first === 'dlq' && segments.length <= 2) return { name: 'dlq', entryId: second ?? null, query };
  return { name: 'not-found', path };
}

const enc = encodeURIComponent;

/** @param {URLSearchParams | Record<string, string> | undefined} query */
function withQuery(path, query) {
  const s = new URLSearchParams(query ?? {}).toString();
  return s ? `#${path}?${s}` : `#${path}`;
}

export const routes = {
  home: () => '#/',
  /** @param {string} zone @param {URLSearchParams | Record<string, string>} [query] */
  audit: (zone, query) => withQuery(`/zones/${enc(zone)}/audit`, query),
  /** @param {string} zone @param {URLSearchParams | Record<string, string>} [query] */
  tail: (zone, query) => withQuery(`/zones/${enc(zone)}/tail`, query),
  /** @param {string} zone @param {string} requestId @param {URLSearchParams | Record<string, string>} [query] */
  trace: (zone, requestId, query) => withQuery(`/zones/${enc(zone)}/requests/${enc(requestId)}`, query),
  /** @param {string} requestId */
  findRequest: (requestId) => `#/requests/${enc(requestId)}`,
  /** @param {string | null} [entryId] @param {URLSearchParams | Record<string, string>} [query] */
  dlq: (entryId, query) => withQuery(entryId ? `/dlq/${enc(entryId)}` : '/dlq', query),
};

/**
 * Goes to a hash route; `replace` rewrites the current history entry instead of adding one.
 * @param {string} hash
 * @param {{ replace?: boolean }} [opts]
 */
export function navigate(hash, opts = {}) {
  if (opts.replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else if (location.hash !== hash) {
    location.hash = hash;
  }
}

/** The query without one key: the rest of a route's state, to tell "only the selection changed" apart. */
export function queryWithout(query, key) {
  const copy = new URLSearchParams(query);
  copy.delete(key);
  copy.sort();
  return copy.toString();
}
