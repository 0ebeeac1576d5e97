// Standard Webhooks v1 (symmetric) signing and verification as in the spec and its reference JS library:
// HMAC-SHA256 over `${id}.${timestamp}.${body}` with the base64-decoded `whsec_` key, ±tolerance.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type WebhookRejection, WebhookRejections } from './webhook-rejections.ts';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The reference library's WEBHOOK_TOLERANCE_IN_SECONDS. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const INTEGER_SECONDS = /^\d+$/;

/** The HMAC key of a `whsec_…` secret; throws when the secret is not base64 of 24–64 bytes. */
export function decodeWebhookSecret(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX)
    ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
    : secret;
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new Error('webhook secret must be "whsec_" followed by standard base64');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new Error(
      `webhook secret must decode to ${MIN_KEY_BYTES}–${MAX_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

/** `v1,<base64 HMAC-SHA256>` for one message. */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): string {
  return `v1,${hmac(decodeWebhookSecret(secret), id, String(timestampSeconds), body).toString('base64')}`;
}

/** The three signature headers for one message. */
export function standardWebhookHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signStandardWebhook(secret, id, timestampSeconds, body),
  };
}

export type Verification =
  | { ok: true; id: string; timestamp: number }
  | {
      ok: false;
      rejection: WebhookRejection;
      message: string;
      id: string | undefined;
      timestamp: number | undefined;
    };

export interface VerificationInput {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Every key currently accepted (more than one during a rotation). */
  keys: readonly Buffer[];
  nowSeconds: number;
  toleranceSeconds: number;
}

export function verifyStandardWebhook(input: VerificationInput): Verification {
  const id = single(input.headers['webhook-id']);
  const timestampText = single(input.headers['webhook-timestamp']);
  const signatures = single(input.headers['webhook-signature']);
  const missing = [
    ['webhook-id', id],
    ['webhook-timestamp', timestampText],
    ['webhook-signature', signatures],
  ]
    .filter(([, v]) => !v)
    .map(([name]) => name);
  const refuse = (rejection: WebhookRejection, message: string, timestamp?: number): Verification => ({
    ok: false,
    rejection,
    message,
    id,
    timestamp,
  });
  if (missing.length > 0)
    return refuse(WebhookRejections.missingHeaders, `Missing required headers: ${missing.join(', ')}`);
  if (!INTEGER_SECONDS.test(timestampText as string)) {
    return refuse(WebhookRejections.invalidTimestamp, 'webhook-timestamp must be integer Unix seconds');
  }
  const timestamp = Number(timestampText);
  if (input.nowSeconds - timestamp > input.toleranceSeconds) {
    return refuse(WebhookRejections.timestampTooOld, 'Message timestamp too old', timestamp);
  }
  if (timestamp - input.nowSeconds > input.toleranceSeconds) {
    return refuse(WebhookRejections.timestampTooNew, 'Message timestamp too new', timestamp);
  }
  const candidates = (signatures as string)
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, value]) => version === 'v1' && value !== undefined)
    .map(([, value]) => Buffer.from(value as string, 'base64'));
  for (const key of input.keys) {
    const expected = hmac(key, id as string, timestampText as string, input.body);
    if (candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected))) {
      return { ok: true, id: id as string, timestamp };
    }
  }
  return refuse(WebhookRejections.noMatchingSignature, 'No matching signature found', timestamp);
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
