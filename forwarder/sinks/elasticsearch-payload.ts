// Elasticsearch _bulk wire format and answers (pure): `create` actions with _id = event id (a retry or a
// replay can never duplicate a document), documents that always carry @timestamp and the batch's
// range and digest, NDJSON ending in a newline; per item, 2xx and 409 are delivered, 429 and 5xx are
// sent again alone, other 4xx are refused one by one.
import type { SinkFormat } from '../../ledger/sinks/spec.ts';
import type { BatchMeta } from '../batch-digest.ts';
import { type DeliveryFailure, failure, httpStatusFailure, parseRetryAfter } from '../delivery-failure.ts';
import type { LedgerEvent } from '../ledger-event.ts';
import type { ChunkAnswer } from './chunked-delivery.ts';

/** Only what classification needs comes back: statuses and the errors of failed items. */
export const BULK_FILTER_PATH = 'errors,items.*.status,items.*.error.type,items.*.error.reason';

export function bulkPath(basePath: string, pipeline: string | undefined): string {
  const q = new URLSearchParams({ filter_path: BULK_FILTER_PATH });
  if (pipeline) q.set('pipeline', pipeline);
  return `${basePath}/_bulk?${q.toString()}`;
}

/** The document for one event: the formatted event, @timestamp when the format has none, and `ledgerhub`. */
export function esDocument(
  e: LedgerEvent,
  formatted: Record<string, unknown>,
  meta: BatchMeta,
  format: SinkFormat,
): Record<string, unknown> {
  const doc = format === 'ecs' ? formatted : { '@timestamp': e.occurred_at, ...formatted };
  doc.ledgerhub = {
    ledger_seq: e.ledger_seq,
    batch: { first_seq: meta.firstSeq, last_seq: meta.lastSeq, count: meta.count, sha256: meta.sha256 },
  };
  return doc;
}

/** One bulk entry: the `create` action line and the source line, each ending in a newline. */
export function bulkEntry(target: string, id: string, doc: Record<string, unknown>): string {
  return `${JSON.stringify({ create: { _index: target, _id: id } })}\n${JSON.stringify(doc)}\n`;
}

interface BulkItemBody {
  status?: unknown;
  error?: { type?: unknown; reason?: unknown };
}

/** Classifies a _bulk reply for a request of `itemCount` entries. */
export function classifyBulkAnswer(
  status: number,
  bodyText: string,
  retryAfterHeader: string | string[] | undefined,
  nowMs: number,
  itemCount: number,
): ChunkAnswer {
  const retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs);
  if (status === 413) return { kind: 'too-large' };
  if (status < 200 || status >= 300) {
    const cause = errorCause(bodyText);
    const f = httpStatusFailure(
      status,
      cause?.reason ?? (bodyText.slice(0, 200) || `HTTP ${status}`),
      retryAfterMs,
    );
    return { kind: 'failed', failure: cause?.type ? { ...f, code: `es_${cause.type}` } : f };
  }
  let items: unknown;
  try {
    items = (JSON.parse(bodyText) as { items?: unknown }).items;
  } catch {
    return {
      kind: 'failed',
      failure: failure('transient', 'es_bad_response', 'the bulk answer is not JSON', { status }),
    };
  }
  if (!Array.isArray(items) || items.length !== itemCount) {
    return {
      kind: 'failed',
      failure: failure(
        'transient',
        'es_bad_response',
        `the bulk answer has ${Array.isArray(items) ? items.length : 'no'} items for ${itemCount} actions`,
        { status },
      ),
    };
  }
  return {
    kind: 'per-event',
    outcomes: items.map((wrapper) =>
      itemOutcome(Object.values(wrapper as object)[0] as BulkItemBody | undefined),
    ),
    receipt: `es ${status} items=${itemCount}`,
  };
}

function itemOutcome(item: BulkItemBody | undefined): DeliveryFailure | null {
  const status = typeof item?.status === 'number' ? item.status : 0;
  // 409 on create: the document is already there (an earlier attempt or replay delivered it)
  if ((status >= 200 && status < 300) || status === 409) return null;
  const type = typeof item?.error?.type === 'string' ? item.error.type : `http_${status}`;
  const reason = typeof item?.error?.reason === 'string' ? item.error.reason : `item status ${status}`;
  const code = `es_${type}`;
  if (status === 429) return failure('throttled', code, reason, { status });
  if (status >= 500 || status === 0) return failure('transient', code, reason, { status });
  return failure('data', code, reason, { status });
}

function errorCause(bodyText: string): { type?: string; reason?: string } | undefined {
  try {
    const error = (JSON.parse(bodyText) as { error?: unknown }).error;
    if (typeof error === 'string') return { reason: error };
    if (error && typeof error === 'object') {
      const e = error as { type?: unknown; reason?: unknown };
      return {
        ...(typeof e.type === 'string' ? { type: e.type } : {}),
        ...(typeof e.reason === 'string' ? { reason: e.reason } : {}),
      };
    }
  } catch {
    // not JSON
  }
  return undefined;
}
