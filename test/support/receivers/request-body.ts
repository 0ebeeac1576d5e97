// Reading request bodies under a byte cap and undoing Content-Encoding under the same cap. An
// over-cap body is drained and discarded (never buffered), so the client still gets to read the 413.
import type { IncomingMessage } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { TrafficCounters } from './traffic.ts';

export type ReceivedBody =
  | { kind: 'complete'; raw: Buffer }
  | { kind: 'too-large'; declaredBytes: number | undefined; receivedBytes: number };

export async function readRequestBody(
  req: IncomingMessage,
  maxBytes: number,
  traffic: TrafficCounters,
): Promise<ReceivedBody> {
  const declared =
    req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  let overCap = declared !== undefined && declared > maxBytes;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    traffic.countBytes(chunk.length);
    if (received > maxBytes) overCap = true;
    if (!overCap) chunks.push(chunk);
  }
  if (overCap) return { kind: 'too-large', declaredBytes: declared, receivedBytes: received };
  return { kind: 'complete', raw: Buffer.concat(chunks, received) };
}

/** Reads and throws away a body (for requests answered without looking at it). */
export async function drainRequestBody(req: IncomingMessage, traffic: TrafficCounters): Promise<void> {
  for await (const chunk of req as AsyncIterable<Buffer>) traffic.countBytes(chunk.length);
}

export type DecodedBody =
  | { kind: 'decoded'; bytes: Buffer }
  | { kind: 'unsupported-encoding'; encoding: string }
  | { kind: 'corrupt'; encoding: string }
  | { kind: 'too-large' };

/**
 * Undoes `Content-Encoding`. `supported` lists the codings the product accepts (lower case); an
 * absent header means identity. gunzip in node:zlib reads every member of a multi-member stream.
 */
export function decodeContent(
  raw: Buffer,
  contentEncoding: string | undefined,
  supported: readonly string[],
  maxBytes: number,
): DecodedBody {
  if (contentEncoding === undefined) return { kind: 'decoded', bytes: raw };
  const encoding = contentEncoding.trim().toLowerCase();
  if (!supported.includes(encoding)) return { kind: 'unsupported-encoding', encoding: contentEncoding };
  if (encoding === 'identity') return { kind: 'decoded', bytes: raw };
  try {
    const inflate = encoding === 'deflate' ? inflateSync : gunzipSync;
    return { kind: 'decoded', bytes: inflate(raw, { maxOutputLength: maxBytes }) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { kind: 'too-large' };
    return { kind: 'corrupt', encoding };
  }
}
