// The answer a receiver gives to one request, kept as data until it is written, so fault switches can
// replace or delay it; also how Retry-After values are spelled on the wire (RFC 9110 §10.2.3).
import type { ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  /** Serialised as JSON; the receiver's content type applies unless `headers` names one. */
  json?: unknown;
  text?: string;
}

/** Seconds (delay-seconds), a Date (HTTP-date), or a literal header value (to send malformed ones on purpose). */
export type RetryAfter = number | Date | string;

export function retryAfterHeader(value: RetryAfter): string {
  if (typeof value === 'number') return String(Math.max(0, Math.ceil(value)));
  if (value instanceof Date) return value.toUTCString();
  return value;
}

/** Writes `reply`; false when the client had already gone away. */
export function writeReply(res: ServerResponse, reply: Reply, jsonContentType: string): boolean {
  if (res.destroyed || res.headersSent) return false;
  let payload: string | undefined;
  const headers: Record<string, string | string[]> = { ...reply.headers };
  if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = jsonContentType;
  } else if (reply.text !== undefined) {
    payload = reply.text;
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'text/plain; charset=utf-8';
  }
  headers['content-length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
  return true;
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}
