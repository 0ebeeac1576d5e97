// Why the webhook stand-in refuses a request, declared once: stable code, HTTP status, `{"error","message"}`.
// Standard Webhooks leaves statuses to receivers; here 400 = malformed, 401 = authenticity check failed.
import type { Reply } from './reply.ts';

export const WebhookRejections = {
  methodNotAllowed: { code: 'method_not_allowed', status: 405 },
  unsupportedMediaType: { code: 'unsupported_media_type', status: 415 },
  payloadTooLarge: { code: 'payload_too_large', status: 413 },
  missingHeaders: { code: 'missing_headers', status: 400 },
  invalidTimestamp: { code: 'invalid_timestamp', status: 400 },
  timestampTooOld: { code: 'timestamp_too_old', status: 401 },
  timestampTooNew: { code: 'timestamp_too_new', status: 401 },
  noMatchingSignature: { code: 'no_matching_signature', status: 401 },
  invalidJson: { code: 'invalid_json', status: 400 },
} as const;

export type WebhookRejection = (typeof WebhookRejections)[keyof typeof WebhookRejections];
export type WebhookRejectionCode = WebhookRejection['code'];

export function rejectionReply(rejection: WebhookRejection, message: string): Reply {
  return { status: rejection.status, json: { error: rejection.code, message } };
}
