// The small HTTP server every non-API role exposes: /health, /ready and /metrics (Prometheus text,
// behind METRICS_BEARER when one is set; required in production).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { bearerMatches } from './bearer.ts';

export interface Readiness {
  ready: boolean;
  reason?: string;
  detail?: Record<string, unknown>;
}

export interface ProbeServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  metricsBearer: string;
  /** In production an unset bearer closes /metrics instead of opening it. */
  production: boolean;
  health: () => Readiness;
  ready: () => Promise<Readiness> | Readiness;
  realm?: string;
}

export interface ProbeServer {
  port: number;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type':
      typeof body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
    ...headers,
  });
  res.end(text);
}

export async function startProbeServer(opts: ProbeServerOptions): Promise<ProbeServer> {
  const realm = opts.realm ?? 'ledgerhub';
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed' });
    if (path === '/health') {
      const h = opts.health();
      return h.ready
        ? send(res, 200, { ok: true })
        : send(res, 503, { ok: false, reason: h.reason ?? 'unhealthy', ...h.detail });
    }
    if (path === '/ready') {
      const r = await opts.ready();
      return r.ready
        ? send(res, 200, { ready: true, ...r.detail })
        : send(res, 503, { ok: false, ready: false, reason: r.reason ?? 'not_ready', ...r.detail });
    }
    if (path === '/metrics') {
      if (!opts.metricsBearer && opts.production) return send(res, 404, { error: 'not_found' });
      if (opts.metricsBearer && !bearerMatches(req.headers.authorization, opts.metricsBearer)) {
        return send(
          res,
          401,
          { error: 'unauthorized', message: 'a valid bearer token is required' },
          {
            'www-authenticate': `Bearer realm="${realm}"`,
          },
        );
      }
      return send(res, 200, await opts.registry.metrics());
    }
    return send(res, 404, { error: 'not_found' });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: 'internal', message: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
