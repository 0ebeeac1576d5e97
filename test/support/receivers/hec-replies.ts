// Splunk HEC status codes and reply bodies, declared once. Texts and HTTP statuses follow Splunk's
// "Troubleshoot HTTP Event Collector → Possible error codes" table (siem-wire.md §1.6).
import type { Reply } from './reply.ts';

export const HEC_JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

export const HecCodes = {
  success: { code: 0, status: 200, text: 'Success' },
  tokenDisabled: { code: 1, status: 403, text: 'Token disabled' },
  tokenRequired: { code: 2, status: 401, text: 'Token is required' },
  invalidAuthorization: { code: 3, status: 401, text: 'Invalid authorization' },
  invalidToken: { code: 4, status: 403, text: 'Invalid token' },
  noData: { code: 5, status: 400, text: 'No data' },
  invalidDataFormat: { code: 6, status: 400, text: 'Invalid data format' },
  incorrectIndex: { code: 7, status: 400, text: 'Incorrect index' },
  internalError: { code: 8, status: 500, text: 'Internal server error' },
  serverBusy: { code: 9, status: 503, text: 'Server is busy' },
  channelMissing: { code: 10, status: 400, text: 'Data channel is missing' },
  invalidChannel: { code: 11, status: 400, text: 'Invalid data channel' },
  eventRequired: { code: 12, status: 400, text: 'Event field is required' },
  eventBlank: { code: 13, status: 400, text: 'Event field cannot be blank' },
  ackDisabled: { code: 14, status: 400, text: 'ACK is disabled' },
  indexedFieldsError: { code: 15, status: 400, text: 'Error in handling indexed fields' },
  queryStringAuthDisabled: { code: 16, status: 400, text: 'Query string authorization is not enabled' },
  healthy: { code: 17, status: 200, text: 'HEC is healthy' },
  unhealthyQueuesFull: { code: 18, status: 503, text: 'HEC is unhealthy, queues are full' },
  unhealthyAckUnavailable: { code: 19, status: 503, text: 'HEC is unhealthy, ack service unavailable' },
  unhealthyBoth: {
    code: 20,
    status: 503,
    text: 'HEC is unhealthy, queues are full, ack service unavailable',
  },
} as const;

export type HecCode = (typeof HecCodes)[keyof typeof HecCodes];

/** Codes that describe one event of a batch and carry `invalid-event-number`. */
export type HecEventError =
  | typeof HecCodes.invalidDataFormat
  | typeof HecCodes.incorrectIndex
  | typeof HecCodes.eventRequired
  | typeof HecCodes.eventBlank
  | typeof HecCodes.indexedFieldsError;

export function hecReply(
  code: HecCode,
  extra?: { ackId?: number; invalidEventNumber?: number; headers?: Record<string, string> },
): Reply {
  const json: Record<string, unknown> = { text: code.text, code: code.code };
  if (extra?.ackId !== undefined) json['ackId'] = extra.ackId;
  if (extra?.invalidEventNumber !== undefined) json['invalid-event-number'] = extra.invalidEventNumber;
  return { status: code.status, json, headers: extra?.headers };
}

/** Splunk's body for a path HEC does not serve. */
export function hecNotFound(): Reply {
  return { status: 404, json: { text: 'The requested URL was not found on this server.', code: 404 } };
}

/** Bodies for scripted failures: HEC's own code where one exists for the status. */
export function hecFailureBody(status: number): Pick<Reply, 'json'> {
  const known = Object.values(HecCodes).find((c) => c.status === status && c.code >= 8 && c.code <= 9);
  if (known) return { json: { text: known.text, code: known.code } };
  return { json: { text: `HTTP ${status}`, code: status } };
}
