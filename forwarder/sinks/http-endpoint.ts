// One sink's HTTP connection pool (undici Pool): keep-alive, a bounded number of connections, explicit
// connect/headers/body timeouts, an overall deadline per request, TLS from the sink's spec, and no
// redirects followed (undici's Pool never follows them; a 3xx comes back as an answer).
import { Pool } from 'undici';

/** Idle keep-alive sockets are closed after this (the server's Keep-Alive hint may shorten it). */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const CONNECT_TIMEOUT_MS = 10_000;
/** Response bodies are read up to this many bytes (SIEM answers are small; a bulk reply is per item). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface EndpointTls {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

export interface EndpointOptions {
  connections: number;
  timeoutMs: number;
  tls?: EndpointTls;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class HttpEndpoint {
  /** The base URL's path without a trailing slash ('' for the root): where API paths are appended. */
  readonly basePath: string;
  /** The URL's path and query as given (where a webhook is POSTed). */
  readonly target: string;
  readonly origin: string;
  readonly #pool: Pool;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, opts: EndpointOptions) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.target = `${url.pathname}${url.search}`;
    this.#timeoutMs = opts.timeoutMs;
    this.#pool = new Pool(url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectTimeout: Math.min(CONNECT_TIMEOUT_MS, opts.timeoutMs),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      ...(opts.tls && url.protocol === 'https:' ? { connect: { ...opts.tls } } : {}),
    });
  }

  /** Sends one request; resolves with any HTTP answer, rejects only on network errors and timeouts. */
  async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string | Buffer,
  ): Promise<HttpAnswer> {
    const res = await this.#pool.request({
      method,
      path,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received <= MAX_RESPONSE_BYTES) chunks.push(chunk);
    }
    return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => this.#pool.destroy());
  }
}
