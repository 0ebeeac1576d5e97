// Bearer-token comparison in constant time, over SHA-256 digests so the length of the secret leaks nothing.
import { createHash, timingSafeEqual } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The token from an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m?.[1];
}

/** True when the header carries exactly `expected`; compares digests in constant time. */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const token = bearerToken(header);
  if (token === undefined) return false;
  return digestEquals(sha256Hex(token), sha256Hex(expected));
}

/** Constant-time equality of two hex digests of the same algorithm. */
export function digestEquals(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
