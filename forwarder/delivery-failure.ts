// How a delivery attempt failed, as data: the kind decides what happens next (retry, dead-letter, pause
// the sink, disable it), the code and message go to sink health and dead letters. Also the mapping of
// network errors and Retry-After headers, shared by every sink.

export type FailureKind =
  /** Network error, timeout, 408, 5xx: retry with back-off; counts towards the breaker. */
  | 'transient'
  /** 429 or a busy answer, possibly with Retry-After: retry no sooner than asked; counts towards the breaker. */
  | 'throttled'
  /** The sink refuses our credentials: dead-letter what was refused and pause the sink. */
  | 'auth'
  /** The sink says our configuration is wrong (unknown index, redirect, ack disabled): as auth. */
  | 'config'
  /** The sink cannot accept these events (bad data, over-size, other 4xx): dead-letter them. */
  | 'data'
  /** 410 Gone: disable the sink until an operator re-enables it; nothing is dead-lettered. */
  | 'gone'
  /** We could not even try (a Secret is missing): retry later and pause the sink; nothing is dead-lettered. */
  | 'local';

export interface DeliveryFailure {
  kind: FailureKind;
  /** Stable, short: `hec_4`, `http_503`, `es_mapper_parsing_exception`, `ECONNREFUSED`, ... */
  code: string;
  /** One line for humans; never carries credentials. */
  message: string;
  status?: number;
  retryAfterMs?: number;
}

export const MAX_FAILURE_MESSAGE = 500;
/** Longest Retry-After honoured; a sink asking for more is asked again sooner. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

export function failure(
  kind: FailureKind,
  code: string,
  message: string,
  extra: { status?: number; retryAfterMs?: number } = {},
): DeliveryFailure {
  const f: DeliveryFailure = {
    kind,
    code,
    message: message.replace(/\s+/g, ' ').slice(0, MAX_FAILURE_MESSAGE),
  };
  if (extra.status !== undefined) f.status = extra.status;
  if (extra.retryAfterMs !== undefined) f.retryAfterMs = extra.retryAfterMs;
  return f;
}

/** Retry and pause, as opposed to giving the events up. */
export function isRetryable(kind: FailureKind): boolean {
  return kind === 'transient' || kind === 'throttled';
}

/**
 * Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in milliseconds from `nowMs`,
 * clamped to [0, MAX_RETRY_AFTER_MS]; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** A failure for an HTTP status no protocol rule claimed (the generic webhook/HTTP classification). */
export function httpStatusFailure(status: number, message: string, retryAfterMs?: number): DeliveryFailure {
  const code = `http_${status}`;
  const extra = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 429) return failure('throttled', code, message, extra);
  if (status === 503 && retryAfterMs !== undefined) return failure('throttled', code, message, extra);
  if (status === 408 || status >= 500) return failure('transient', code, message, extra);
  if (status === 401 || status === 403) return failure('auth', code, message, extra);
  if (status === 410) return failure('gone', code, message, extra);
  if (status >= 300 && status < 400)
    return failure('config', code, `${message} (redirects are not followed)`, extra);
  if (status === 404 || status === 405) return failure('config', code, message, extra);
  return failure('data', code, message, extra);
}

/** A thrown network error (undici or node) as a transient failure. */
export function networkFailure(err: unknown): DeliveryFailure {
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code =
    typeof e?.code === 'string'
      ? e.code
      : typeof e?.cause?.code === 'string'
        ? e.cause.code
        : e?.name === 'TimeoutError' || e?.name === 'AbortError'
          ? 'timeout'
          : 'network_error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return failure('transient', code, message);
}
