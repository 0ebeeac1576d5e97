// A strict local stand-in for an S3-compatible object store, for export tests: SigV4-authenticated
// PutObject (with If-None-Match: * answered 412 PreconditionFailed when the key exists, and 409
// ConditionalRequestConflict while another conditional write of the key is in flight), GetObject,
// HeadObject, DeleteObject and ListObjectsV2, with S3's XML error bodies, plus fault switches and
// inspection for tests. npm's s3rver ignores If-None-Match on PUT (it overwrites), hence this.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signature } from '../../../ledger/s3-sigv4.ts';
import { type LoopbackServer, listenLoopback } from '../receivers/http-server.ts';

export interface S3StandInOptions {
  region?: string;
  buckets: string[];
  credentials: { accessKeyId: string; secretAccessKey: string }[];
  /** Max clock skew accepted between x-amz-date and now (S3: 15 minutes). */
  maxSkewMs?: number;
}

export interface StoredObject {
  body: Buffer;
  etag: string;
  contentType: string;
  lastModified: Date;
}

export interface S3StandIn {
  url: string;
  region: string;
  /** Requests answered, by "<METHOD> <status>". */
  readonly counts: Map<string, number>;
  objects(bucket: string): Map<string, StoredObject>;
  /** Conditional PUTs received and not yet answered. */
  inFlightPuts(): number;
  /** Replaces an object's bytes behind the client's back (tamper tests). */
  tamper(bucket: string, key: string, change: (body: Buffer) => Buffer): void;
  faults: {
    /** The next n requests of this method get `status` with S3's `code`, and change nothing. */
    failNext(n: number, status: number, code: string, method?: string): void;
    /** Hold PUTs (after reading the body, before storing) until release() is called. */
    holdPuts(): { release(): void };
    reset(): void;
  };
  server: LoopbackServer;
  stop(): Promise<void>;
}

const ERROR_MESSAGES: Record<string, string> = {
  PreconditionFailed: 'At least one of the pre-conditions you specified did not hold',
  ConditionalRequestConflict:
    'A conflicting conditional operation is currently in progress against this resource.',
  NoSuchKey: 'The specified key does not exist.',
  NoSuchBucket: 'The specified bucket does not exist',
  SignatureDoesNotMatch:
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  InvalidAccessKeyId: 'The AWS Access Key Id you provided does not exist in our records.',
  AccessDenied: 'Access Denied',
  RequestTimeTooSkewed: 'The difference between the request time and the current time is too large.',
  XAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  BadDigest: 'The Content-MD5 you specified did not match what we received.',
  NotImplemented: 'A header you provided implies functionality that is not implemented',
  InternalError: 'We encountered an internal error. Please try again.',
  SlowDown: 'Please reduce your request rate.',
};

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sendError(res: ServerResponse, status: number, code: string, resource: string, extra = ''): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(ERROR_MESSAGES[code] ?? code)}</Message>` +
    `<Resource>${xmlEscape(resource)}</Resource>${extra}<RequestId>standin</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startS3StandIn(opts: S3StandInOptions): Promise<S3StandIn> {
  const region = opts.region ?? 'us-east-1';
  const buckets = new Map(opts.buckets.map((b) => [b, new Map<string, StoredObject>()]));
  const secrets = new Map(opts.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  const inFlight = new Set<string>();
  const counts = new Map<string, number>();
  let failures: { n: number; status: number; code: string; method?: string } | null = null;
  let hold: Promise<void> | null = null;

  const answer = (res: ServerResponse, status: number) => {
    const k = `${res.req.method} ${status}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  };

  /** SigV4 check of a header-signed request; returns an error code or null. */
  const authenticate = (req: IncomingMessage, url: URL, body: Buffer): string | null => {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return 'AccessDenied';
    const [, keyId, date, reqRegion, signedHeaders, given] = m as unknown as string[];
    const secret = secrets.get(keyId!);
    if (secret === undefined) return 'InvalidAccessKeyId';
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!amzDate.startsWith(date!) || reqRegion !== region) return 'SignatureDoesNotMatch';
    const at = Date.parse(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    if (Number.isNaN(at) || Math.abs(Date.now() - at) > (opts.maxSkewMs ?? 15 * 60_000))
      return 'RequestTimeTooSkewed';
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256')) {
      return 'AccessDenied';
    }
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (
      payloadHash !== 'UNSIGNED-PAYLOAD' &&
      payloadHash !== createHash('sha256').update(body).digest('hex')
    ) {
      return 'XAmzContentSHA256Mismatch';
    }
    const headers: Record<string, string> = {};
    for (const n of names) headers[n] = String(req.headers[n] ?? '');
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const query: [string, string][] = [...url.searchParams.entries()];
    const expected = signature(
      { method: req.method!, path: rawPath, query, headers, payloadHash },
      amzDate,
      region,
      secret,
    );
    return timingSafeEqual(Buffer.from(expected), Buffer.from(given!)) ? null : 'SignatureDoesNotMatch';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const body = await readBody(req);
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const resource = url.pathname;
    const fail = (status: number, code: string, extra = '') => {
      answer(res, status);
      sendError(res, status, code, resource, extra);
    };
    const authError = authenticate(req, url, body);
    if (authError)
      return fail(
        authError === 'InvalidAccessKeyId' ||
          authError === 'RequestTimeTooSkewed' ||
          authError === 'AccessDenied' ||
          authError === 'SignatureDoesNotMatch'
          ? 403
          : 400,
        authError,
      );
    if (failures && failures.n > 0 && (!failures.method || failures.method === req.method)) {
      failures.n--;
      return fail(failures.status, failures.code);
    }
    const bucket = buckets.get(decodeURIComponent(bucketName));
    if (!bucket) return fail(404, 'NoSuchBucket');

    if (req.method === 'GET' && key === '') {
      if (url.searchParams.get('list-type') !== '2') return fail(501, 'NotImplemented');
      const prefix = url.searchParams.get('prefix') ?? '';
      const max = Math.min(1000, Math.max(1, Number(url.searchParams.get('max-keys') ?? 1000)));
      const after = url.searchParams.get('continuation-token') ?? url.searchParams.get('start-after') ?? '';
      const all = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = all.slice(0, max);
      const truncated = all.length > max;
      const contents = page
        .map((k) => {
          const o = bucket.get(k)!;
          return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        })
        .join('');
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
        `<Name>${xmlEscape(bucketName)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
        `<MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}` +
        (truncated ? `<NextContinuationToken>${xmlEscape(page.at(-1)!)}</NextContinuationToken>` : '') +
        '</ListBucketResult>';
      answer(res, 200);
      res.writeHead(200, { 'content-type': 'application/xml' });
      return res.end(xml);
    }
    if (key === '') return fail(405, 'MethodNotAllowed');

    if (req.method === 'PUT') {
      const ifNoneMatch = req.headers['if-none-match'];
      if (ifNoneMatch !== undefined && ifNoneMatch !== '*')
        return fail(501, 'NotImplemented', '<Header>If-None-Match</Header>');
      const md5 = req.headers['content-md5'];
      if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64'))
        return fail(400, 'BadDigest');
      if (ifNoneMatch === '*') {
        if (inFlight.has(key)) return fail(409, 'ConditionalRequestConflict');
        if (bucket.has(key)) return fail(412, 'PreconditionFailed', '<Condition>If-None-Match</Condition>');
        inFlight.add(key);
      }
      try {
        if (hold) await hold;
        if (ifNoneMatch === '*' && bucket.has(key))
          return fail(412, 'PreconditionFailed', '<Condition>If-None-Match</Condition>');
        const etag = createHash('md5').update(body).digest('hex');
        bucket.set(key, {
          body,
          etag,
          contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
          lastModified: new Date(),
        });
        answer(res, 200);
        res.writeHead(200, { etag: `"${etag}"`, 'content-length': 0 });
        return res.end();
      } finally {
        if (ifNoneMatch === '*') inFlight.delete(key);
      }
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const o = bucket.get(key);
      if (!o) return fail(404, 'NoSuchKey', `<Key>${xmlEscape(key)}</Key>`);
      answer(res, 200);
      res.writeHead(200, {
        'content-type': o.contentType,
        'content-length': o.body.length,
        etag: `"${o.etag}"`,
        'last-modified': o.lastModified.toUTCString(),
      });
      return res.end(req.method === 'HEAD' ? undefined : o.body);
    }
    if (req.method === 'DELETE') {
      bucket.delete(key);
      answer(res, 204);
      res.writeHead(204);
      return res.end();
    }
    return fail(405, 'MethodNotAllowed');
  };

  const server = await listenLoopback((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', req.url ?? '/');
    });
  });

  return {
    url: server.url,
    region,
    counts,
    objects: (b) => {
      const bucket = buckets.get(b);
      if (!bucket) throw new Error(`no bucket ${b}`);
      return bucket;
    },
    inFlightPuts: () => inFlight.size,
    tamper(b, key, change) {
      const o = buckets.get(b)?.get(key);
      if (!o) throw new Error(`no object ${b}/${key}`);
      o.body = change(o.body);
    },
    faults: {
      failNext(n, status, code, method) {
        failures = { n, status, code, method };
      },
      holdPuts() {
        let release: () => void = () => {};
        hold = new Promise<void>((r) => {
          release = r;
        });
        return {
          release: () => {
            hold = null;
            release();
          },
        };
      },
      reset() {
        failures = null;
        hold = null;
      },
    },
    server,
    stop: () => server.close(),
  };
}
