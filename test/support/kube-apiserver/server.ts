// The HTTP front of the fake apiserver: logs every request, applies injected latency and failures, and
// routes to discovery, OpenAPI, version/health and resource endpoints; errors become Status responses.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, ApiErrors } from './api-errors.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import type { JsonValue } from './json-value.ts';
import { OPENAPI_V2_PROTOBUF, openApiV2Json, openApiV3Document, openApiV3Index } from './openapi.ts';
import type { RequestLog, RequestRecord } from './request-log.ts';
import { parseRequestPath, verbOf } from './request-path.ts';
import { type Endpoints, sendJson, serveResource } from './resource-endpoints.ts';

export interface HttpFront {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The document at a non-resource path (discovery, version, OpenAPI), or undefined for an unknown path. */
function nonResourceDocument(
  endpoints: Endpoints,
  req: IncomingMessage,
  segments: readonly string[],
): JsonValue | undefined {
  const { registry } = endpoints.state;
  const path = `/${segments.join('/')}`;
  if (path === '/version') return SERVER_VERSION;
  if (path === '/api') return apiVersions(req.headers.host ?? '127.0.0.1');
  if (path === '/apis') return apiGroupList(registry);
  if (segments[0] === 'api' && segments.length === 2) return apiResourceList(registry, '', segments[1]!);
  if (segments[0] === 'apis' && segments.length === 2) return apiGroup(registry, segments[1]!);
  if (segments[0] === 'apis' && segments.length === 3)
    return apiResourceList(registry, segments[1]!, segments[2]!);
  if (path === '/openapi/v2') return openApiV2Json();
  if (path === '/openapi/v3') return openApiV3Index(registry);
  if (segments[0] === 'openapi' && segments[1] === 'v3') {
    const [, , kind, a, b] = segments;
    if (kind === 'api' && a) return openApiV3Document(registry, '', a);
    if (kind === 'apis' && a && b) return openApiV3Document(registry, a, b);
  }
  return undefined;
}

function serveNonResource(
  endpoints: Endpoints,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw ApiErrors.methodNotAllowed();
  const segments = pathname.split('/').filter((s) => s !== '');
  const path = `/${segments.join('/')}`;
  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    sendText(res, 200, 'ok');
  } else if (path === '/openapi/v2' && (req.headers.accept ?? '').includes('protobuf')) {
    // an empty protobuf message is an empty OpenAPI document: kubectl then uses its compiled-in types
    res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF, 'Content-Length': 0 });
    res.end();
  } else {
    const document = nonResourceDocument(endpoints, req, segments);
    if (document === undefined) throw ApiErrors.noRoute();
    sendJson(res, 200, document);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startHttpFront(
  endpoints: Endpoints,
  log: RequestLog,
  port: number,
): Promise<HttpFront> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = parseRequestPath(url.pathname);
    const record: RequestRecord = {
      time: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      verb: verbOf(
        req.method ?? 'GET',
        path,
        url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1',
      ),
      code: 0,
    };
    if (path?.kind === 'resource') {
      record.resource = path.resource;
      record.group = path.group;
      if (path.subresource) record.subresource = path.subresource;
      if (path.namespace) record.namespace = path.namespace;
      if (path.name) record.name = path.name;
    }
    const fieldManager = url.searchParams.get('fieldManager');
    if (fieldManager) record.fieldManager = fieldManager;
    if (req.headers['user-agent']) record.userAgent = req.headers['user-agent'];
    log.record(record);
    try {
      const latency = endpoints.faults.latencyFor(record);
      if (latency > 0) await delay(latency);
      const failure = endpoints.faults.takeFailure(record);
      if (failure) {
        req.resume();
        const headers: Record<string, string> =
          failure.retryAfterSeconds !== undefined ? { 'Retry-After': String(failure.retryAfterSeconds) } : {};
        sendJson(res, failure.error.code, failure.error.toStatus(), headers);
        return;
      }
      if (path === undefined) throw ApiErrors.noRoute();
      if (path.kind === 'nonResource') {
        req.resume();
        serveNonResource(endpoints, req, res, path.path);
      } else {
        await serveResource(endpoints, req, res, path, url.searchParams);
      }
    } catch (err) {
      const error = err instanceof ApiError ? err : ApiErrors.internal((err as Error).stack ?? String(err));
      if (!(err instanceof ApiError))
        process.stderr.write(`fake-kube-apiserver: ${(err as Error).stack ?? String(err)}\n`);
      if (res.headersSent) res.end();
      else sendJson(res, error.code, error.toStatus());
    } finally {
      record.code = res.statusCode;
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
