// Elasticsearch error bodies, declared once: the request-level `{"error":{"root_cause",...},"status"}`
// envelope, the REST layer's short `{"error":"...","status"}` form, and bulk item `error` objects.
import type { Reply } from './reply.ts';

export interface EsErrorCause {
  type: string;
  reason: string;
  caused_by?: EsErrorCause;
  [detail: string]: unknown;
}

/** Request-level failure: root_cause lists the error itself without its nested causes. */
export function esErrorReply(
  status: number,
  cause: EsErrorCause,
  headers?: Record<string, string | string[]>,
): Reply {
  const { caused_by: _nested, ...root } = cause;
  return { status, headers, json: { error: { root_cause: [root], ...cause }, status } };
}

/** The REST layer's short form, used for unsupported media types and wrong methods. */
export function esSimpleError(status: number, message: string): Reply {
  return { status, json: { error: message, status } };
}

export function illegalArgument(reason: string, caused_by?: EsErrorCause): EsErrorCause {
  return caused_by
    ? { type: 'illegal_argument_exception', reason, caused_by }
    : { type: 'illegal_argument_exception', reason };
}

/** `Validation Failed: 1: index is missing;2: id is missing;` as ActionRequestValidationException words it. */
export function validationFailed(problems: readonly string[]): EsErrorCause {
  const listed = problems.map((p, i) => `${i + 1}: ${p};`).join('');
  return { type: 'action_request_validation_exception', reason: `Validation Failed: ${listed}` };
}

export const WWW_AUTHENTICATE = [
  'Basic realm="security", charset="UTF-8"',
  'Bearer realm="security"',
  'ApiKey',
];

/** 401 with ES's security_exception body and challenges. */
export function securityException(reason: string, extra: Record<string, unknown> = {}): Reply {
  return esErrorReply(
    401,
    { type: 'security_exception', reason, ...extra, header: { 'WWW-Authenticate': WWW_AUTHENTICATE } },
    { 'www-authenticate': WWW_AUTHENTICATE },
  );
}

/** Bodies for scripted failures, shaped like the errors ES sends with those statuses. */
export function esFailureBody(status: number): Pick<Reply, 'json'> {
  const cause: EsErrorCause =
    status === 429
      ? {
          type: 'es_rejected_execution_exception',
          reason: 'rejected execution of coordinating operation [shard_level=false] (stand-in fault)',
        }
      : status === 503
        ? { type: 'cluster_block_exception', reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];' }
        : status === 413
          ? { type: 'circuit_breaking_exception', reason: 'request entity too large (stand-in fault)' }
          : { type: 'exception', reason: `stand-in fault with status ${status}` };
  const { json } = esErrorReply(status, cause);
  return { json };
}
