// The API client: every call sends the bearer token as a header (never in a URL), and every failure
// becomes an ApiError carrying the server's stable error code and message. A 401 also raises the
// token prompt through UNAUTHORIZED_EVENT.
import { getToken } from './token.js';

export const UNAUTHORIZED_EVENT = 'ledgerhub:unauthorized';

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server did not answer
   * @param {string} code the API's error code (`request_not_found`, `forbidden` ...)
   * @param {string} message
   * @param {unknown} [body]
   */
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Announces that the API refused the token (or that there is none), with the server's reason. */
export function announceUnauthorized(message) {
  window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT, { detail: { message } }));
}

/** The Authorization header for the current token, or throws (and raises the prompt) when there is none. */
export function authHeaders() {
  const token = getToken();
  if (!token) {
    const message = 'Enter an API token to read the ledger.';
    announceUnauthorized(message);
    throw new ApiError(401, 'unauthorized', message);
  }
  return { authorization: `Bearer ${token}` };
}

/**
 * Reads an error response into an ApiError.
 * @param {Response} res
 */
export async function errorFromResponse(res) {
  const text = await res.text().catch(() => '');
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy's page, say
  }
  const code = typeof body?.error === 'string' ? body.error : `http_${res.status}`;
  const message = typeof body?.message === 'string' ? body.message : `${res.status} ${res.statusText}`.trim();
  if (res.status === 401) announceUnauthorized(message);
  return new ApiError(res.status, code, message, body);
}

/**
 * Calls the API and returns the parsed JSON body.
 * @param {'GET' | 'POST'} method
 * @param {string} path
 * @param {{ query?: URLSearchParams | Record<string, string>, signal?: AbortSignal }} [opts]
 */
async function call(method, path, opts = {}) {
  const qs = new URLSearchParams(opts.query ?? {}).toString();
  const headers = { ...authHeaders(), accept: 'application/json' };
  let res;
  try {
    res = await fetch(qs ? `${path}?${qs}` : path, {
      method,
      headers,
      signal: opts.signal,
      cache: 'no-store',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The API did not answer. Check the connection, then retry.');
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res.json();
}

/** @param {string} path @param {{ query?: URLSearchParams | Record<string, string>, signal?: AbortSignal }} [opts] */
export const apiGet = (path, opts) => call('GET', path, opts);
/** @param {string} path @param {{ query?: URLSearchParams | Record<string, string>, signal?: AbortSignal }} [opts] */
export const apiPost = (path, opts) => call('POST', path, opts);

const enc = encodeURIComponent;

/** The routes the console reads (see api/routes/*.ts). */
export const paths = {
  zones: () => '/v1/zones',
  /** @param {string} zone */
  audit: (zone) => `/v1/zones/${enc(zone)}/audit`,
  /** @param {string} zone */
  stream: (zone) => `/v1/zones/${enc(zone)}/audit/stream`,
  /** @param {string} zone @param {string} requestId */
  explain: (zone, requestId) => `/v1/zones/${enc(zone)}/audit/by-request/${enc(requestId)}/explain`,
  /** @param {string} requestId */
  requestZones: (requestId) => `/v1/audit/requests/${enc(requestId)}`,
  /** @param {string} eventId */
  eventStatus: (eventId) => `/v1/audit/events/${enc(eventId)}`,
  /** @param {string} zone @param {string} eventId */
  event: (zone, eventId) => `/v1/zones/${enc(zone)}/audit/events/${enc(eventId)}`,
  dlq: () => '/v1/audit/dlq',
  /** @param {string} id */
  dlqEntry: (id) => `/v1/audit/dlq/${enc(id)}`,
  dlqReplay: () => '/v1/audit/dlq/replay',
};

/** Whether an error is the abort of a request this page cancelled (navigation), which is not a failure. */
export function isAbort(err) {
  return err instanceof DOMException && err.name === 'AbortError';
}
