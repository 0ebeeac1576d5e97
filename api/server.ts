// Builds the Fastify app: routes from their declarations, one error handler that answers
// {error: <stable code>, message}, 401 with WWW-Authenticate, /metrics behind METRICS_BEARER, the
// console's static files with a strict content security policy, and request metrics.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Errors, isLedgerhubError, LedgerhubError } from '../ledger/errors.ts';
import { bearerMatches } from '../ledger/runtime/bearer.ts';
import type { TokenEntry } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { openApiDocument } from './openapi.ts';
import { type AnyRoute, registerRoutes } from './route.ts';
import { auditRoutes } from './routes/audit.ts';
import { dlqRoutes } from './routes/dlq.ts';
import { metaRoutes } from './routes/meta.ts';
import { retentionRoutes } from './routes/retention.ts';
import { sinkRoutes } from './routes/sinks.ts';
import { streamRoutes } from './routes/stream.ts';

export interface ServerOptions {
  tokens: TokenEntry[];
  metricsBearer: string;
  production: boolean;
  bodyLimitBytes: number;
  serveConsole: boolean;
  version: string;
  /** Extra route groups (sinks, retention) contributed by other modules. */
  extraRoutes?: AnyRoute[];
}

export const CONSOLE_DIR = new URL('./console/', import.meta.url).pathname;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function allRoutes(deps: ApiDeps, extra: AnyRoute[], openapi: () => unknown): AnyRoute[] {
  return [
    ...metaRoutes(deps, openapi),
    ...auditRoutes(deps),
    ...streamRoutes(deps),
    ...dlqRoutes(deps),
    ...retentionRoutes(deps),
    ...sinkRoutes(deps),
    ...extra,
  ];
}

export function buildServer(deps: ApiDeps, opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 300 },
  });

  let doc: unknown;
  const routes = allRoutes(deps, opts.extraRoutes ?? [], () => doc);
  doc = openApiDocument(routes, opts.version);
  registerRoutes(app, routes, () => opts.tokens);

  app.get('/metrics', async (req, reply) => {
    if (!opts.metricsBearer && opts.production) throw new LedgerhubError(Errors.notFound, 'not found');
    if (opts.metricsBearer && !bearerMatches(req.headers.authorization, opts.metricsBearer)) {
      throw new LedgerhubError(Errors.unauthorized, 'a valid metrics bearer token is required');
    }
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  if (opts.serveConsole) {
    const files = new Map<string, { body: Buffer; type: string }>();
    for (const name of readdirSync(CONSOLE_DIR)) {
      const type = CONTENT_TYPES[extname(name)];
      if (type) files.set(name, { body: readFileSync(join(CONSOLE_DIR, name)), type });
    }
    const serve = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
      const f = files.get(name)!;
      reply.headers({ ...SECURITY_HEADERS, 'content-type': f.type, 'cache-control': 'no-cache' });
      return reply.send(f.body);
    };
    app.get('/', serve('index.html'));
    for (const name of files.keys()) app.get(`/console/${name}`, serve(name));
  }

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.requests.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setNotFoundHandler(async (req, reply) => {
    reply.code(404);
    return { error: Errors.notFound.code, message: `no route ${req.method} ${req.url.split('?')[0]}` };
  });

  app.setErrorHandler(async (err, req, reply) => {
    let e: LedgerhubError;
    if (isLedgerhubError(err)) e = err;
    else if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      e = new LedgerhubError(Errors.payloadTooLarge, `the body is larger than ${opts.bodyLimitBytes} bytes`);
    } else if (
      (err as { statusCode?: number }).statusCode === 400 ||
      (err as { statusCode?: number }).statusCode === 415
    ) {
      e = new LedgerhubError(Errors.invalidBody, (err as Error).message);
    } else {
      deps.log.error({ err, route: req.routeOptions.url }, 'request failed');
      e = new LedgerhubError(Errors.internal, 'internal error; the server log has the details');
    }
    deps.metrics.errors.inc({ code: e.code });
    if (e.code === 'unauthorized') {
      reply.header(
        'www-authenticate',
        req.headers.authorization
          ? 'Bearer realm="ledgerhub", error="invalid_token"'
          : 'Bearer realm="ledgerhub"',
      );
    }
    reply.code(e.status);
    return e.toJSON();
  });

  return app;
}
