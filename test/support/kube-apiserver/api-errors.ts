// The catalogue of API errors the fake returns, each rendered as a meta/v1 Status with the reason, code
// and message wording of the real apiserver (k8s.io/apimachinery/pkg/api/errors).
import { causeOf, type FieldError, renderAggregate } from './field-errors.ts';
import type { JsonObject } from './json-value.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error that the server answers with a Status body. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
    };
    if (this.reason) status['reason'] = this.reason;
    status['code'] = this.code;
    if (this.details) status['details'] = this.details as JsonObject;
    return status;
  }
}

/** A group/resource pair as apiserver messages print it: "configmaps", "widgets.example.com". */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export function qualifiedKind(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

export const ApiErrors = {
  notFound(gr: GroupResource, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  },
  /** An unknown path or resource. */
  noRoute(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(gr: GroupResource, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  },
  conflict(gr: GroupResource, name: string, reason: string): ApiError {
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${reason}`,
      { name, group: gr.group, kind: gr.resource },
    );
  },
  staleResourceVersion(gr: GroupResource, name: string): ApiError {
    return ApiErrors.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },
  /**
   * 409 from server-side apply when fields are owned by other managers. `manager` is already rendered as
   * the apiserver prints it: "name" for appliers, "name" using apps/v1 for updaters.
   */
  applyConflict(conflicts: readonly { manager: string; field: string }[]): ApiError {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
    const n = conflicts.length;
    let message: string;
    if (n === 1) {
      const c = conflicts[0]!;
      message = `Apply failed with 1 conflict: conflict with ${c.manager}: ${c.field}`;
    } else {
      const parts = [...byManager].map(
        ([manager, fields]) => `conflicts with ${manager}:\n${fields.map((f) => `- ${f}`).join('\n')}`,
      );
      message = `Apply failed with ${n} conflicts: ${parts.join('\n')}`;
    }
    return new ApiError(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with ${c.manager}`,
        field: c.field,
      })),
    });
  },
  invalid(group: string, kind: string, name: string, errors: readonly FieldError[]): ApiError {
    return new ApiError(
      422,
      'Invalid',
      `${qualifiedKind(group, kind)} "${name}" is invalid: ${renderAggregate(errors)}`,
      { name, group, kind, causes: errors.map(causeOf) },
    );
  },
  /** 422 for malformed request options, reported against PatchOptions/DeleteOptions like the real one. */
  invalidOptions(optionsKind: string, errors: readonly FieldError[]): ApiError {
    return ApiErrors.invalid('meta.k8s.io', optionsKind, '', errors);
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  forbidden(gr: GroupResource, name: string, reason: string): ApiError {
    return new ApiError(403, 'Forbidden', `${qualifiedResource(gr)} "${name}" is forbidden: ${reason}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  },
  methodNotAllowed(): ApiError {
    return new ApiError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
      {},
    );
  },
  notAcceptable(accepted: string): ApiError {
    return new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted}`);
  },
  unsupportedMediaType(contentType: string, accepted: readonly string[]): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
      { causes: [{ reason: 'UnexpectedServerResponse', message: contentType }] },
    );
  },
  requestEntityTooLarge(limit: number): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  },
  /** 410 Gone for a watch or continue token older than the retained history. */
  expired(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds });
  },
  /** A storage-layer error surfaced without a reason, as the apiserver does for a few legacy checks. */
  storage(message: string): ApiError {
    return new ApiError(500, '', message);
  },
  internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, {
      causes: [{ message }],
    });
  },
  /** A status chosen by a fault switch; the reason follows the code like apierrors.FromObject does. */
  injected(code: number, message: string, retryAfterSeconds?: number): ApiError {
    const reason = REASON_BY_CODE[code] ?? 'InternalError';
    const details: StatusDetails = {};
    if (retryAfterSeconds !== undefined) details.retryAfterSeconds = retryAfterSeconds;
    return new ApiError(code, reason, message, details);
  },
};

const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};
