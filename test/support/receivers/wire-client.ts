// The HTTP client the conformance suites speak through (undici), returning status, headers and the
// raw body text, so tests assert on exactly what went over the wire.
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (throws with the body text when it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

export interface WireRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';
  headers?: Record<string, string>;
  /** A Readable is sent chunked (no Content-Length). */
  body?: string | Buffer | Readable;
  /** Abort (TimeoutError) when the whole exchange takes longer; precise, unlike undici's coarse timers. */
  timeoutMs?: number;
}

/** A dispatcher for one target; `insecureTls` accepts self-signed certificates (lab Splunk/ES). */
export function wireDispatcher(insecureTls = false): Dispatcher {
  return new Agent(insecureTls ? { connect: { rejectUnauthorized: false } } : {});
}

export async function send(
  dispatcher: Dispatcher,
  url: string,
  req: WireRequest = {},
): Promise<WireResponse> {
  const res = await request(url, {
    dispatcher,
    method: req.method ?? (req.body === undefined ? 'GET' : 'POST'),
    headers: req.headers,
    body: req.body,
    signal: req.timeoutMs === undefined ? undefined : AbortSignal.timeout(req.timeoutMs),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`expected a JSON body, got ${res.statusCode}: ${JSON.stringify(text.slice(0, 200))}`);
      }
    },
  };
}

/** How a request failed without an answer: undici's code (ECONNREFUSED, UND_ERR_SOCKET, ...) or the error name (TimeoutError). */
export async function connectionErrorOf(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (err) {
    const e = err as { code?: unknown; name?: string; cause?: { code?: unknown } };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.cause?.code === 'string') return e.cause.code;
    return e.name ?? String(err);
  }
  throw new Error('expected the request to fail at the connection level, but it got an answer');
}
