// The error catalogue: every error ledgerhub reports has one stable code, declared here once.
// API responses carry `{error: <code>, message}`; CLI exit codes and docs (docs/errors.md) use the same codes.

export interface ErrorSpec {
  readonly code: string;
  readonly status: number;
  readonly summary: string;
}

function spec(code: string, status: number, summary: string): ErrorSpec {
  return { code, status, summary };
}

export const Errors = {
  // configuration and start-up
  configInvalid: spec(
    'config_invalid',
    500,
    'A configuration key is missing or has a value of the wrong form.',
  ),
  dependencyMissing: spec(
    'dependency_missing',
    500,
    'A program or package the command needs is not installed.',
  ),
  // API: Caracal-compatible codes
  invalidQuery: spec('invalid_query', 400, 'A query parameter is malformed or out of range.'),
  invalidFields: spec('invalid_fields', 400, 'The fields parameter names a field that cannot be selected.'),
  invalidCursor: spec('invalid_cursor', 400, 'The cursor is not one this server issued.'),
  invalidBody: spec('invalid_body', 400, 'The request body is malformed.'),
  invalidRequestId: spec(
    'invalid_request_id',
    400,
    'The request id does not match ^[A-Za-z0-9_.\\-:]{1,128}$.',
  ),
  requestNotFound: spec('request_not_found', 404, 'No event carries this request id in this zone.'),
  notFound: spec('not_found', 404, 'The route or object does not exist.'),
  unauthorized: spec('unauthorized', 401, 'A valid bearer token is required.'),
  forbidden: spec('forbidden', 403, 'The token lacks the scope this route needs.'),
  retentionAboveLimit: spec(
    'retention_above_limit',
    400,
    'The retention asked for exceeds the configured ceiling.',
  ),
  payloadTooLarge: spec('payload_too_large', 413, 'The request body is larger than allowed.'),
  // ledger
  chainInvalid: spec('chain_invalid', 409, 'The hash chain does not verify.'),
  storeUnavailable: spec('store_unavailable', 503, 'Postgres cannot be reached.'),
  streamUnavailable: spec('stream_unavailable', 503, 'Redis cannot be reached.'),
  migrationFailed: spec('migration_failed', 500, 'A schema migration failed; nothing after it was applied.'),
  eventInvalid: spec('event_invalid', 400, 'The audit event does not match the contract.'),
  internal: spec('internal', 500, 'An unexpected error; the log has the details.'),
  unavailable: spec('unavailable', 503, 'The server cannot take this request now; try again later.'),
  // retention, export, integrity
  exportConflict: spec(
    'export_conflict',
    409,
    'An export object already exists at its key with different content; it is never overwritten.',
  ),
  exportUnavailable: spec(
    'export_unavailable',
    503,
    'The export destination cannot be reached or refused a write; the watermark did not move.',
  ),
  retentionBusy: spec(
    'retention_busy',
    503,
    'audit_events stayed locked by a long reader past the lock timeout; the run removed nothing and is retried next time.',
  ),
  retentionRefused: spec(
    'retention_refused',
    409,
    'A partition could not be dropped by policy (name, window or tombstone check failed).',
  ),
  // forwarder and sinks
  sinkNotFound: spec('sink_not_found', 404, 'No sink of this name is known to the forwarder.'),
  sinkSecretMissing: spec(
    'sink_secret_missing',
    500,
    'A Secret key a sink refers to is neither mounted nor set in the environment.',
  ),
  sinkDisabled: spec('sink_disabled', 409, 'The sink was disabled (its endpoint answered 410 Gone).'),
  // operator
  leadershipLost: spec(
    'leadership_lost',
    503,
    'The operator could not renew its leader Lease in time and stopped reconciling; it exits so it restarts as a candidate.',
  ),
} as const;

export type ErrorCode = (typeof Errors)[keyof typeof Errors]['code'];

/** An error with a catalogue code. `detail` is safe to show to the caller (no secrets). */
export class LedgerhubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: Record<string, unknown> | undefined;

  constructor(spec: ErrorSpec, message?: string, detail?: Record<string, unknown>, options?: ErrorOptions) {
    super(message ?? spec.summary, options);
    this.name = 'LedgerhubError';
    this.code = spec.code as ErrorCode;
    this.status = spec.status;
    this.detail = detail;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...(this.detail ?? {}) };
  }
}

export function isLedgerhubError(err: unknown, spec?: ErrorSpec): err is LedgerhubError {
  return err instanceof LedgerhubError && (spec === undefined || err.code === spec.code);
}

/** The message of any thrown value, for logs and dead-letter reasons. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
