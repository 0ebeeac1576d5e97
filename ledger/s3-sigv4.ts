// AWS Signature Version 4 for S3, pure: canonical request, string to sign, signing key and the
// Authorization header. Shared by the client and by the test stand-in that checks signatures.
import { createHash, createHmac } from 'node:crypto';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface CanonicalInput {
  method: string;
  /** The path as sent, already URI-encoded (see encodeKeyPath). */
  path: string;
  query: [string, string][];
  /** Header names (any case) and values of every signed header. */
  headers: Record<string, string>;
  payloadHash: string;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (and '/' when asked). */
export function uriEncode(value: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** An object key as a path: each segment encoded, slashes kept. */
export function encodeKeyPath(key: string): string {
  return uriEncode(key, true);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalRequest(c: CanonicalInput): { text: string; signedHeaders: string } {
  const query = c.query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = Object.keys(c.headers)
    .map((n) => n.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  const headerLines = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signedHeaders = names.join(';');
  return {
    text: `${c.method}\n${c.path}\n${query}\n${headerLines}\n${signedHeaders}\n${c.payloadHash}`,
    signedHeaders,
  };
}

export function credentialScope(date: string, region: string, service = 's3'): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function signingKey(secret: string, date: string, region: string, service = 's3'): Buffer {
  const hmac = (key: string | Buffer, data: string) =>
    createHmac('sha256', key).update(data, 'utf8').digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** The signature of a canonical request at `amzDate` (YYYYMMDD'T'HHMMSS'Z'). */
export function signature(c: CanonicalInput, amzDate: string, region: string, secret: string): string {
  const date = amzDate.slice(0, 8);
  const { text } = canonicalRequest(c);
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${credentialScope(date, region)}\n${sha256Hex(text)}`;
  return createHmac('sha256', signingKey(secret, date, region))
    .update(stringToSign, 'utf8')
    .digest('hex');
}

export function amzDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Adds x-amz-date, x-amz-content-sha256 (and the session token) and the Authorization header. */
export function signRequest(
  c: Omit<CanonicalInput, 'headers'> & { headers: Record<string, string> },
  creds: S3Credentials,
  region: string,
  at = new Date(),
): Record<string, string> {
  const date = amzDate(at);
  const headers: Record<string, string> = {
    ...c.headers,
    'x-amz-date': date,
    'x-amz-content-sha256': c.payloadHash,
  };
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  const input = { ...c, headers };
  const sig = signature(input, date, region, creds.secretAccessKey);
  const { signedHeaders } = canonicalRequest(input);
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${credentialScope(date.slice(0, 8), region)}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${sig}`;
  return headers;
}
