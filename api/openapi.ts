// The OpenAPI 3.1 document, generated from the route declarations and their zod schemas, so the
// published contract is the validated one.
import { z } from 'zod';
import { Errors } from '../ledger/errors.ts';
import type { AnyRoute } from './route.ts';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete s.$schema;
  return s;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    description: p.description,
    schema: p,
  }));
}

const ErrorBody = z.object({
  error: z
    .enum(Object.values(Errors).map((e) => e.code) as [string, ...string[]])
    .describe('stable error code'),
  message: z.string(),
});

export function openApiDocument(routes: AnyRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, Json> = {};
    for (const [status, doc] of Object.entries(r.responses)) {
      const content = doc.schema
        ? { [doc.contentType ?? 'application/json']: { schema: jsonSchema(doc.schema, 'output') } }
        : doc.contentType
          ? { [doc.contentType]: {} }
          : Number(status) >= 400
            ? { 'application/json': { schema: jsonSchema(ErrorBody, 'output') } }
            : undefined;
      responses[status] = { description: doc.description, ...(content ? { content } : {}) };
    }
    if (r.scope !== null) {
      responses['401'] ??= { description: 'missing or invalid bearer token (`unauthorized`)' };
      responses['403'] ??= { description: `token lacks the scope ${r.scope} (\`forbidden\`)` };
    }
    const op: Json = {
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
            },
          }
        : {}),
      responses,
      ...(r.scope !== null ? { security: [{ bearer: [r.scope] }] } : { security: [] }),
    };
    paths[path] = { ...(paths[path] ?? {}), [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ledgerhub admin API',
      version,
      description:
        "Audit ledger queries compatible with Caracal's admin API audit routes, plus explain, live tail, verification, dead letters and sinks.",
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Tokens carry scopes `audit:read` and `audit:admin`.',
        },
      },
    },
    paths,
  };
}
