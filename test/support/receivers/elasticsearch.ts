// Stand-in Elasticsearch 8.x for bulk delivery: _bulk with ES's NDJSON, auth, media-type, validation,
// data-stream and mapping rules (siem-wire.md §2), a few read/cleanup endpoints, inspection and faults.

import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BoundedLog, DEFAULT_STORED_ENTRIES } from './bounded-log.ts';
import { CredentialRegistry } from './credentials.ts';
import { apiKeyCredential, authenticateEs, basicCredential, type EsCredentialKind } from './es-auth.ts';
import { parseBulkBody, validateBulk, validationError } from './es-bulk-parser.ts';
import {
  type EsErrorCause,
  esErrorReply,
  esFailureBody,
  esSimpleError,
  illegalArgument,
} from './es-errors.ts';
import { applyFilterPath } from './es-filter-path.ts';
import {
  DEFAULT_MAX_INDICES,
  DEFAULT_MAX_STORED_DOCUMENTS,
  EsIndexStore,
  type StoredDocument,
} from './es-index-store.ts';
import type { EsFieldType } from './es-mapping.ts';
import { esResponseContentType, refuseBulkContentType } from './es-media-type.ts';
import { ArmedPlan, FaultSwitches } from './faults.ts';
import { type LoopbackServer, listenLoopback } from './http-server.ts';
import { receiverRequestListener } from './receiver-pipeline.ts';
import type { Reply } from './reply.ts';
import { decodeContent, type ReceivedBody } from './request-body.ts';
import { StateWatch } from './state-watch.ts';
import { TrafficCounters } from './traffic.ts';

/** http.max_content_length default. */
export const DEFAULT_ES_MAX_CONTENT_LENGTH = 100 * 1024 * 1024;
export const DEFAULT_ES_VERSION = '8.17.0';
const DEFAULT_WAIT_MS = 5_000;

const BULK_URL_PARAMETERS = new Set([
  'pipeline',
  'refresh',
  'routing',
  'timeout',
  'wait_for_active_shards',
  'require_alias',
  'require_data_stream',
  'list_executed_pipelines',
  'include_source_on_error',
  '_source',
  '_source_excludes',
  '_source_includes',
  'filter_path',
  'pretty',
  'human',
  'error_trace',
]);
const REFRESH_VALUES = new Set(['', 'true', 'false', 'wait_for']);

export interface ElasticsearchOptions {
  /** Accepted API keys as `id:key`. Default: one random key, unless `basic` is given. */
  apiKeys?: string[];
  basic?: { user: string; password: string }[];
  /** Index names or `*` patterns that are data streams (as if a data-stream index template matched). */
  dataStreams?: string[];
  /** Index name or pattern → dotted field path → type: checked before dynamic mapping. */
  mappings?: Record<string, Record<string, EsFieldType>>;
  /** Map new fields from their first value and refuse later conflicting values (ES default). Default true. */
  dynamicMapping?: boolean;
  /** Ingest pipelines that exist; a bulk naming another answers that item with 400. */
  pipelines?: string[];
  /**
   * Where BulkRequest.validate() problems (index missing, id missing, ...) are reported: 'request'
   * fails the whole bulk with 400 action_request_validation_exception, as ES 8 does; 'item' answers
   * only the offending items with that error. Default 'request'.
   */
  validationFailures?: 'request' | 'item';
  /** Request body cap (http.max_content_length); over it → 413 with an empty body ([unconfirmed]). */
  maxContentLength?: number;
  maxStoredDocuments?: number;
  /** Indices that may exist (the shard limit); auto-creating one more fails its items with validation_exception. */
  maxIndices?: number;
  maxStoredRequests?: number;
  version?: string;
  port?: number;
}

export interface EsBulkRecord {
  seq: number;
  path: string;
  defaultIndex: string | undefined;
  receivedAt: Date;
  headers: IncomingHttpHeaders;
  wireBytes: number;
  status: number;
  /** Set when the request got a bulk response. */
  errors: boolean | undefined;
  items: { op: string; index: string; id: string | null; status: number; errorType: string | undefined }[];
  /** Request-level error type, when the whole request failed. */
  errorType: string | undefined;
  /** Deprecation warnings sent back in `Warning` headers. */
  warnings: string[];
}

export type EsItemFault = 429 | 400 | { status: number; error: EsErrorCause };

export interface EsPartialPlan {
  /** 0-based item position in the next bulk request → how that item fails (it is not executed). */
  items: Record<number, EsItemFault>;
}

export class EsFaults extends FaultSwitches {
  readonly #partial = new ArmedPlan<EsPartialPlan>();
  readonly #credentials: CredentialRegistry<EsCredentialKind>;

  constructor(server: LoopbackServer, credentials: CredentialRegistry<EsCredentialKind>) {
    super(server, credentials);
    this.#credentials = credentials;
    this.onReset(() => this.#partial.disarm());
  }

  /** The next bulk request that has an item at one of these positions fails those items (429 is retryable). */
  partial(plan: EsPartialPlan): void {
    this.#partial.arm(plan);
  }

  /** API key `from` (`id:key`) stops working; `to` works instead. */
  rotateApiKey(from: string, to: string): void {
    this.#credentials.rotate(apiKeyCredential(from), apiKeyCredential(to));
  }

  /** For the receiver: the armed plan when it applies to a bulk of `itemCount` items. */
  takePartial(itemCount: number): EsPartialPlan | undefined {
    return this.#partial.takeIf((p) => Object.keys(p.items).some((k) => Number(k) < itemCount));
  }
}

export interface ElasticsearchReceiver {
  readonly url: string;
  /** `base64(id:key)` of the first API key, ready for `Authorization: ApiKey …` (undefined with Basic only). */
  readonly apiKey: string | undefined;
  /** An Authorization header value that works at start-up. */
  readonly authorization: string;
  readonly faults: EsFaults;
  readonly traffic: TrafficCounters;
  /** Documents of an index or data stream, oldest first. */
  documents(index: string): StoredDocument[];
  document(index: string, id: string): StoredDocument | undefined;
  count(index: string): number;
  indexNames(): string[];
  /** Field types an index has mapped so far (explicit and dynamic). */
  mapping(index: string): Record<string, EsFieldType> | undefined;
  /** Documents evicted because maxStoredDocuments was reached. */
  readonly droppedDocuments: number;
  bulkRequests(): EsBulkRecord[];
  /** Resolves once `index` (or data stream) holds at least `n` documents. */
  waitForDocuments(index: string, n: number, timeoutMs?: number): Promise<StoredDocument[]>;
  clear(): void;
  stop(): Promise<void>;
}

export async function startElasticsearch(opts: ElasticsearchOptions = {}): Promise<ElasticsearchReceiver> {
  const apiKeys = opts.apiKeys ?? (opts.basic ? [] : [`ledgerhub:${randomBytes(12).toString('base64url')}`]);
  for (const key of apiKeys) {
    if (!/^[^:]+:.+$/.test(key))
      throw new Error(`startElasticsearch: apiKeys entries must look like "id:key", got ${key}`);
  }
  const credentials = new CredentialRegistry<EsCredentialKind>([
    ...apiKeys.map((k) => [apiKeyCredential(k), 'api_key'] as const),
    ...(opts.basic ?? []).map((b) => [basicCredential(b.user, b.password), 'user'] as const),
  ]);
  const firstBasic = opts.basic?.[0];
  const apiKey = apiKeys[0] === undefined ? undefined : Buffer.from(apiKeys[0]).toString('base64');
  const authorization = apiKey
    ? `ApiKey ${apiKey}`
    : `Basic ${Buffer.from(`${firstBasic?.user}:${firstBasic?.password}`).toString('base64')}`;
  const version = opts.version ?? DEFAULT_ES_VERSION;
  const maxContentLength = opts.maxContentLength ?? DEFAULT_ES_MAX_CONTENT_LENGTH;
  const validationFailures = opts.validationFailures ?? 'request';
  const pipelines = new Set(['_none', ...(opts.pipelines ?? [])]);
  const store = new EsIndexStore({
    dataStreams: opts.dataStreams ?? [],
    mappings: opts.mappings ?? {},
    dynamicMapping: opts.dynamicMapping ?? true,
    maxDocuments: opts.maxStoredDocuments ?? DEFAULT_MAX_STORED_DOCUMENTS,
    maxIndices: opts.maxIndices ?? DEFAULT_MAX_INDICES,
  });
  const bulkLog = new BoundedLog<EsBulkRecord>(opts.maxStoredRequests ?? DEFAULT_STORED_ENTRIES);
  const traffic = new TrafficCounters();
  const watch = new StateWatch();
  const clusterUuid = randomBytes(16).toString('base64url').slice(0, 22);
  let bulkSeq = 0;

  // The listener is bound below; no request can arrive before this function yields again.
  const server = await listenLoopback((req, res) => listener(req, res), opts.port ?? 0);
  const faults = new EsFaults(server, credentials);
  const listener = receiverRequestListener({
    faults,
    traffic,
    maxContentLength: () => maxContentLength,
    jsonContentType: (req) => esResponseContentType(req.headers.accept),
    isDelivery: (req, url) => isBulkRoute(req.method, segmentsOf(url)),
    failureBody: esFailureBody,
    handle: (req, url, body) => withProductHeader(route(req, url, body)),
  });

  function route(req: IncomingMessage, url: URL, body: ReceivedBody): Reply {
    const auth = authenticateEs(req.headers.authorization, req.url ?? '/', credentials);
    if (!auth.ok) return auth.reply;
    if (body.kind === 'too-large') return { status: 413 };
    const method = req.method ?? 'GET';
    const segments = segmentsOf(url);
    const [first, second, third] = segments;
    if (segments.length === 0 && (method === 'GET' || method === 'HEAD')) return clusterInfo();
    if (first === '_cluster' && second === 'health' && segments.length === 2 && method === 'GET')
      return clusterHealth();
    if ((first === '_bulk' && segments.length === 1) || (second === '_bulk' && segments.length === 2)) {
      if (method !== 'POST' && method !== 'PUT') {
        return esSimpleError(
          405,
          `Incorrect HTTP method for uri [${req.url}] and method [${method}], allowed: [POST, PUT]`,
        );
      }
      return bulk(req, url, body, first === '_bulk' ? undefined : first);
    }
    if (
      segments.length === 3 &&
      second === '_doc' &&
      first &&
      third &&
      (method === 'GET' || method === 'HEAD')
    ) {
      return getDocument(first, third);
    }
    if (segments.length === 2 && second === '_refresh' && first && (method === 'POST' || method === 'GET')) {
      return { status: 200, json: { _shards: { total: 2, successful: 1, failed: 0 } } };
    }
    if (segments.length === 2 && first === '_data_stream' && second && method === 'DELETE')
      return deleteIndex(second);
    if (segments.length === 1 && first && !first.startsWith('_') && method === 'DELETE')
      return deleteIndex(first);
    // [unconfirmed] body of ES's fallback for unknown routes.
    return { status: 400, json: { error: `no handler found for uri [${req.url}] and method [${method}]` } };
  }

  function bulk(req: IncomingMessage, url: URL, body: ReceivedBody, defaultIndex: string | undefined): Reply {
    const raw = (body as { raw: Buffer }).raw;
    bulkSeq += 1;
    const record: EsBulkRecord = {
      seq: bulkSeq,
      path: url.pathname,
      defaultIndex,
      receivedAt: new Date(),
      headers: { ...req.headers },
      wireBytes: raw.length,
      status: 0,
      errors: undefined,
      items: [],
      errorType: undefined,
      warnings: [],
    };
    const reply = bulkReply(req, url, raw, defaultIndex, record);
    record.status = reply.status;
    bulkLog.append(record);
    if (record.items.some((i) => i.status < 300)) watch.notify();
    return reply;
  }

  function bulkReply(
    req: IncomingMessage,
    url: URL,
    raw: Buffer,
    defaultIndex: string | undefined,
    record: EsBulkRecord,
  ): Reply {
    const started = performance.now();
    const failRequest = (status: number, cause: EsErrorCause): Reply => {
      record.errorType = cause.type;
      return esErrorReply(status, cause);
    };
    if (raw.length > 0) {
      const refused = refuseBulkContentType(req.headers['content-type']);
      if (refused) return refused;
    }
    const unknown = [...url.searchParams.keys()].filter((k) => !BULK_URL_PARAMETERS.has(k));
    if (unknown.length > 0) {
      const listed = unknown.map((k) => `[${k}]`).join(', ');
      return failRequest(
        400,
        illegalArgument(
          `request [${url.pathname}] contains unrecognized parameter${unknown.length > 1 ? 's' : ''}: ${listed}`,
        ),
      );
    }
    const refresh = url.searchParams.get('refresh');
    if (refresh !== null && !REFRESH_VALUES.has(refresh)) {
      return failRequest(400, illegalArgument(`Unknown value for refresh: [${refresh}].`));
    }
    // Netty's decompressor undoes gzip/deflate; other codings pass through undecoded, as in ES.
    const encoding = req.headers['content-encoding']?.toLowerCase();
    const decodable = encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate';
    const decoded = decodeContent(
      raw,
      decodable ? (encoding === 'x-gzip' ? 'gzip' : encoding) : undefined,
      ['gzip', 'deflate'],
      maxContentLength,
    );
    if (decoded.kind === 'too-large') return { status: 413 };
    if (decoded.kind !== 'decoded')
      return failRequest(400, { type: 'parse_exception', reason: 'failed to decompress the request body' });

    const parsed = parseBulkBody(decoded.bytes.toString('utf8'), defaultIndex);
    if (!parsed.ok) return failRequest(400, parsed.error);
    const { requestProblems, perAction } = validateBulk(parsed.actions);
    const allProblems = [...requestProblems, ...[...perAction.values()].flat()];
    if (requestProblems.length > 0 || (validationFailures === 'request' && allProblems.length > 0)) {
      return failRequest(400, validationError(allProblems));
    }

    const urlPipeline = url.searchParams.get('pipeline') ?? undefined;
    const injected = faults.takePartial(parsed.actions.length);
    const items = parsed.actions.map((action, position) => {
      const fault = injected?.items[position];
      if (fault !== undefined) return store.refuse(action, ...itemFault(fault));
      const problems = perAction.get(action);
      if (problems) return store.refuse(action, 400, validationError(problems));
      const pipeline = action.pipeline ?? urlPipeline;
      if (pipeline !== undefined && !pipelines.has(pipeline)) {
        return store.refuse(action, 400, illegalArgument(`pipeline with id [${pipeline}] does not exist`));
      }
      return store.execute(action);
    });
    record.items = items.map(({ op, body }) => ({
      op,
      index: body._index,
      id: body._id,
      status: body.status,
      errorType: body.error?.type,
    }));
    const errors = items.some((i) => i.body.error !== undefined);
    record.errors = errors;
    record.warnings = parsed.warnings;
    const response = {
      errors,
      took: Math.round(performance.now() - started),
      items: items.map(({ op, body }) => ({ [op]: body })),
    };
    const headers: Record<string, string | string[]> = {};
    if (parsed.warnings.length > 0) {
      headers['warning'] = parsed.warnings.map((w) => `299 Elasticsearch-${version} "${w}"`);
    }
    return { status: 200, headers, json: applyFilterPath(response, url.searchParams.get('filter_path')) };
  }

  function itemFault(fault: EsItemFault): [number, EsErrorCause] {
    if (fault === 429) {
      return [
        429,
        {
          type: 'es_rejected_execution_exception',
          reason:
            'rejected execution of primary operation [coordinating_and_primary_bytes=0] (stand-in fault)',
        },
      ];
    }
    if (fault === 400) {
      return [
        400,
        { type: 'document_parsing_exception', reason: '[1:1] failed to parse: refused by faults.partial()' },
      ];
    }
    return [fault.status, fault.error];
  }

  function clusterInfo(): Reply {
    return {
      status: 200,
      json: {
        name: 'ledgerhub-es-stand-in',
        cluster_name: 'ledgerhub-local',
        cluster_uuid: clusterUuid,
        version: {
          number: version,
          build_flavor: 'default',
          build_type: 'docker',
          build_hash: 'stand-in',
          build_date: '2024-12-11T12:08:05.663969764Z',
          build_snapshot: false,
          lucene_version: '9.12.0',
          minimum_wire_compatibility_version: '7.17.0',
          minimum_index_compatibility_version: '7.0.0',
        },
        tagline: 'You Know, for Search',
      },
    };
  }

  function clusterHealth(): Reply {
    const indices = store.indexNames().length;
    return {
      status: 200,
      json: {
        cluster_name: 'ledgerhub-local',
        status: indices > 0 ? 'yellow' : 'green',
        timed_out: false,
        number_of_nodes: 1,
        number_of_data_nodes: 1,
        active_primary_shards: indices,
        active_shards: indices,
        relocating_shards: 0,
        initializing_shards: 0,
        unassigned_shards: indices,
        unassigned_primary_shards: 0,
        delayed_unassigned_shards: 0,
        number_of_pending_tasks: 0,
        number_of_in_flight_fetch: 0,
        task_max_waiting_in_queue_millis: 0,
        active_shards_percent_as_number: indices > 0 ? 50 : 100,
      },
    };
  }

  function getDocument(index: string, id: string): Reply {
    if (
      !store.indexNames().includes(index) &&
      store.documents(index).length === 0 &&
      !store.isDataStream(index)
    ) {
      return indexNotFound(index);
    }
    const doc = store.document(index, id);
    if (doc === undefined) return { status: 404, json: { _index: index, _id: id, found: false } };
    return {
      status: 200,
      json: {
        _index: doc.index,
        _id: doc.id,
        _version: doc.version,
        _seq_no: doc.seqNo,
        _primary_term: doc.primaryTerm,
        found: true,
        _source: doc.source,
      },
    };
  }

  function deleteIndex(name: string): Reply {
    return store.deleteIndex(name) ? { status: 200, json: { acknowledged: true } } : indexNotFound(name);
  }

  function indexNotFound(index: string): Reply {
    return esErrorReply(404, {
      type: 'index_not_found_exception',
      reason: `no such index [${index}]`,
      'resource.type': 'index_or_alias',
      'resource.id': index,
      index_uuid: '_na_',
      index,
    });
  }

  return {
    url: server.url,
    apiKey,
    authorization,
    faults,
    traffic,
    documents: (index) => store.documents(index),
    document: (index, id) => store.document(index, id),
    count: (index) => store.documents(index).length,
    indexNames: () => store.indexNames(),
    mapping: (index) => store.mapping(index),
    get droppedDocuments() {
      return store.dropped;
    },
    bulkRequests: () => bulkLog.list(),
    waitForDocuments: (index, n, timeoutMs = DEFAULT_WAIT_MS) =>
      watch.until(
        () => store.documents(index).length >= n,
        () => store.documents(index),
        timeoutMs,
        () => `waiting for ${n} documents in ${index}, it holds ${store.documents(index).length}`,
      ),
    clear() {
      store.clear();
      bulkLog.clear();
      traffic.clear();
      bulkSeq = 0;
    },
    stop: () => server.close(),
  };
}

function segmentsOf(url: URL): string[] {
  return url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
}

function isBulkRoute(method: string | undefined, segments: string[]): boolean {
  if (method !== 'POST' && method !== 'PUT') return false;
  return (
    (segments.length === 1 && segments[0] === '_bulk') || (segments.length === 2 && segments[1] === '_bulk')
  );
}

/** The official clients refuse 2xx answers without this header (ProductNotSupportedError). */
function withProductHeader(reply: Reply): Reply {
  if (reply.status === 401) return reply;
  return { ...reply, headers: { ...reply.headers, 'x-elastic-product': 'Elasticsearch' } };
}
