// One route = one declaration: method, path, scope, zod schemas for params, query and body, the
// documented responses, and the handler. Registration validates input with the catalogue's error
// codes (naming the parameter) and the same declarations generate the OpenAPI document.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type ErrorSpec, Errors, LedgerhubError } from '../ledger/errors.ts';
import { authenticate, type Principal, requireScope, type Scope, type TokenEntry } from './auth.ts';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface HandlerContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  summary: string;
  description?: string;
  tag: string;
  /** null: public. */
  scope: Scope | null;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** The error code a params validation failure answers with (default invalid_query). */
  paramsError?: ErrorSpec;
  responses: Record<number, ResponseDoc>;
  handler(ctx: HandlerContext<P, Q, B>): Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of routes
export type AnyRoute = RouteSpec<any, any, any>;

export function defineRoute<P, Q, B>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

function parseOrThrow<T>(schema: z.ZodType<T> | undefined, value: unknown, spec: ErrorSpec, what: string): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? `${what} ${issue.path.join('.')}` : what;
  throw new LedgerhubError(spec, `${where}: ${issue.message}`);
}

export function registerRoutes(app: FastifyInstance, routes: AnyRoute[], tokens: () => TokenEntry[]): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (req, reply) => {
        let principal: Principal | null = null;
        if (route.scope !== null) {
          principal = authenticate(tokens(), req.headers.authorization);
          requireScope(principal, route.scope);
        }
        const params = parseOrThrow(
          route.params,
          req.params,
          route.paramsError ?? Errors.invalidQuery,
          'path parameter',
        );
        const query = parseOrThrow(route.query, req.query, Errors.invalidQuery, 'query parameter');
        const body = parseOrThrow(route.body, req.body, Errors.invalidBody, 'body');
        return route.handler({ params, query, body, principal, req, reply });
      },
    });
  }
}
