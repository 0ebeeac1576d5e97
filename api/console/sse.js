// Server-sent events over fetch(), because EventSource cannot send the bearer header: a spec-following
// parser, and a connection that resumes from the last event id after any error, with backoff, and
// stops (saying why) only when retrying cannot help (401, 403, 400, 404).
import { authHeaders, errorFromResponse } from './api.js';

/** First reconnect delay, unless the server sends `retry:`; doubles up to MAX_RETRY_MS. */
const DEFAULT_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** No byte (not even a heartbeat comment) for this long means a dead connection: reconnect. */
export const STALL_TIMEOUT_MS = 60_000;
/** Statuses after which reconnecting cannot succeed without the user doing something. */
const FATAL_STATUSES = new Set([400, 401, 403, 404]);

/**
 * @typedef {{ event: string, data: string, id: string | null }} SseMessage
 * @typedef {{ onMessage: (m: SseMessage) => void, onComment?: (text: string) => void, onRetry?: (ms: number) => void }} SseHandlers
 */

/**
 * A parser for the text/event-stream format (WHATWG HTML §9.2.6). Feed it decoded text chunks.
 * @param {SseHandlers} handlers
 */
export function createSseParser(handlers) {
  let buffer = '';
  let data = [];
  let eventName = '';
  /** @type {string | null} */
  let lastEventId = null;

  const line = (text) => {
    if (text === '') {
      if (data.length > 0)
        handlers.onMessage({ event: eventName || 'message', data: data.join('\n'), id: lastEventId });
      data = [];
      eventName = '';
      return;
    }
    if (text.startsWith(':')) {
      handlers.onComment?.(text.slice(1).trimStart());
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') eventName = value;
    else if (field === 'id' && !value.includes('\u0000')) lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) handlers.onRetry?.(Number(value));
  };

  return {
    /** @param {string} chunk */
    push(chunk) {
      buffer += chunk;
      for (;;) {
        const m = /\r\n|\n|\r/.exec(buffer);
        if (!m) break;
        // a lone \r at the end may be the first half of \r\n: wait for the next chunk
        if (m[0] === '\r' && m.index === buffer.length - 1) break;
        line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
    },
    get lastEventId() {
      return lastEventId;
    },
    set lastEventId(v) {
      lastEventId = v;
    },
  };
}

/**
 * @typedef {'connecting' | 'live' | 'retrying' | 'stopped'} StreamState
 * @typedef {{ state: StreamState, attempt?: number, delayMs?: number, reason?: string, status?: number }} StreamStatus
 */

/**
 * Opens a resumable event stream.
 * @param {{
 *   url: () => string,
 *   onMessage: (m: SseMessage) => void,
 *   onStatus: (s: StreamStatus) => void,
 *   onHeartbeat?: () => void,
 * }} opts `url` is called per connection (so the first one can ask for a backfill, later ones not)
 * @returns {{ close: () => void, readonly lastEventId: string | null }}
 */
export function openEventStream(opts) {
  let closed = false;
  let attempt = 0;
  let retryMs = DEFAULT_RETRY_MS;
  /** @type {string | null} */
  let lastEventId = null;
  let controller = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let stallTimer;
  /** @type {(() => void) | null} */
  let wakeSleeper = null;

  const sleep = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeSleeper = () => {
        clearTimeout(timer);
        resolve(undefined);
      };
    });

  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () => controller.abort(new DOMException('stalled', 'AbortError')),
      STALL_TIMEOUT_MS,
    );
  };

  async function connectOnce() {
    controller = new AbortController();
    const headers = { ...authHeaders(), accept: 'text/event-stream' };
    if (lastEventId !== null) headers['last-event-id'] = lastEventId;
    opts.onStatus({ state: 'connecting', attempt });
    armStallTimer();
    let res;
    try {
      res = await fetch(opts.url(), { headers, signal: controller.signal, cache: 'no-store' });
    } catch {
      return { reason: 'the connection failed' };
    }
    if (!res.ok) {
      const err = await errorFromResponse(res);
      return {
        reason: `${err.code}: ${err.message}`,
        status: res.status,
        fatal: FATAL_STATUSES.has(res.status),
      };
    }
    if (!res.body) return { reason: 'the response has no body' };
    attempt = 0;
    opts.onStatus({ state: 'live' });
    const parser = createSseParser({
      onMessage: (m) => {
        if (m.id !== null) lastEventId = m.id;
        opts.onMessage(m);
      },
      onComment: () => opts.onHeartbeat?.(),
      onRetry: (ms) => {
        retryMs = Math.max(250, Math.min(ms, MAX_RETRY_MS));
      },
    });
    parser.lastEventId = lastEventId;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { reason: 'the server closed the stream' };
        armStallTimer();
        parser.push(value);
      }
    } catch {
      return {
        reason: controller.signal.aborted ? 'no data or heartbeat arrived in time' : 'the connection broke',
      };
    } finally {
      clearTimeout(stallTimer);
    }
  }

  (async () => {
    while (!closed) {
      let outcome;
      try {
        outcome = await connectOnce();
      } catch (err) {
        // no token: the prompt is up; stop until the view is opened again
        outcome = { reason: /** @type {Error} */ (err).message, status: 401, fatal: true };
      }
      clearTimeout(stallTimer);
      if (closed) return;
      if (outcome.fatal) {
        opts.onStatus({ state: 'stopped', reason: outcome.reason, status: outcome.status });
        return;
      }
      attempt++;
      const delayMs =
        Math.min(MAX_RETRY_MS, retryMs * 2 ** Math.min(attempt - 1, 5)) * (0.8 + Math.random() * 0.4);
      opts.onStatus({ state: 'retrying', attempt, delayMs, reason: outcome.reason, status: outcome.status });
      await sleep(delayMs);
    }
  })();

  return {
    close() {
      closed = true;
      clearTimeout(stallTimer);
      controller.abort();
      wakeSleeper?.();
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
