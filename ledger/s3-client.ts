// A small S3 client (SigV4, path-style when an endpoint is given, virtual-hosted otherwise) with only
// what export and verify-export need: conditional PUT (If-None-Match: *), GET, HEAD and ListObjectsV2.
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { encodeKeyPath, type S3Credentials, sha256Hex, signRequest, uriEncode } from './s3-sigv4.ts';

export interface S3Location {
  /** e.g. http://127.0.0.1:9000; empty for AWS (https://<bucket>.s3.<region>.amazonaws.com). */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: S3Credentials;
  /** Per request (default 60 s). */
  timeoutMs?: number;
}

export class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'S3Error';
    this.status = status;
    this.code = code;
  }
}

export type PutOutcome = 'created' | 'exists';

/** Retries of a conditional PUT answered 409 ConditionalRequestConflict (50 ms doubling). */
const CONFLICT_RETRIES = 6;

export class S3Client {
  readonly #loc: S3Location;

  constructor(loc: S3Location) {
    this.#loc = loc;
  }

  get bucket(): string {
    return this.#loc.bucket;
  }

  #target(key: string | null, query: [string, string][] = []): { url: string; path: string; host: string } {
    const { endpoint, bucket, region } = this.#loc;
    const base = endpoint ? new URL(endpoint) : new URL(`https://${bucket}.s3.${region}.amazonaws.com`);
    const prefix = endpoint ? `${base.pathname.replace(/\/$/, '')}/${encodeURIComponent(bucket)}` : '';
    const path = `${prefix}/${key === null ? '' : encodeKeyPath(key)}`;
    const qs = query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
    return { url: `${base.origin}${path}${qs ? `?${qs}` : ''}`, path, host: base.host };
  }

  async #send(
    method: string,
    key: string | null,
    opts: { query?: [string, string][]; body?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const target = this.#target(key, opts.query);
    const body = opts.body ?? Buffer.alloc(0);
    const headers = signRequest(
      {
        method,
        path: target.path,
        query: opts.query ?? [],
        headers: { host: target.host, ...(opts.headers ?? {}) },
        payloadHash: sha256Hex(body),
      },
      this.#loc.credentials,
      this.#loc.region,
    );
    const res = await request(target.url, {
      method: method as 'GET',
      headers,
      body: method === 'PUT' ? body : undefined,
      headersTimeout: this.#loc.timeoutMs ?? 60_000,
      bodyTimeout: this.#loc.timeoutMs ?? 60_000,
    });
    const data = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body: data };
  }

  /**
   * Creates the object only if the key is free (`If-None-Match: *`). A key that already exists is
   * `exists`, never overwritten. A conflicting concurrent conditional write (409) is retried.
   */
  async putIfAbsent(key: string, body: Buffer, contentType: string): Promise<PutOutcome> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.#send('PUT', key, {
        body,
        headers: {
          'content-type': contentType,
          'if-none-match': '*',
          'content-md5': createHash('md5').update(body).digest('base64'),
        },
      });
      if (res.status === 200) return 'created';
      if (res.status === 412) return 'exists';
      if (res.status === 409 && attempt < CONFLICT_RETRIES) {
        // another conditional write of the key is in flight: S3 asks to retry
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        continue;
      }
      throw errorFrom(res.status, res.body, `PUT ${key}`);
    }
  }

  /** The object's bytes, or null when there is no such key. */
  async get(key: string): Promise<Buffer | null> {
    const res = await this.#send('GET', key);
    if (res.status === 404) return null;
    if (res.status !== 200) throw errorFrom(res.status, res.body, `GET ${key}`);
    return res.body;
  }

  async exists(key: string): Promise<boolean> {
    const res = await this.#send('HEAD', key);
    if (res.status === 404) return false;
    if (res.status !== 200)
      throw new S3Error(res.status, `Http${res.status}`, `HEAD ${key}: HTTP ${res.status}`);
    return true;
  }

  /** Every key under a prefix (ListObjectsV2, following continuation tokens). */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | null = null;
    do {
      const query: [string, string][] = [
        ['list-type', '2'],
        ['prefix', prefix],
        ['max-keys', '1000'],
      ];
      if (token) query.push(['continuation-token', token]);
      const res = await this.#send('GET', null, { query });
      if (res.status !== 200) throw errorFrom(res.status, res.body, `LIST ${prefix}`);
      const xml = res.body.toString('utf8');
      for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(xmlText(m[1]!));
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
        ? xmlText(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] ?? '')
        : null;
    } while (token);
    return keys;
  }
}

function xmlText(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');
}

function errorFrom(status: number, body: Buffer, what: string): S3Error {
  const xml = body.toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? `Http${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? xml.slice(0, 200);
  return new S3Error(status, code, `${what}: ${status} ${code}: ${message}`);
}

/** Parses `s3://bucket/prefix` into its parts. */
export function parseS3Url(url: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return m ? { bucket: m[1]!, prefix: m[2] ?? '' } : null;
}
