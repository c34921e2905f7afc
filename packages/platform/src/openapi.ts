import type { Express } from 'express';
import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch';

export interface OpenApiRoute {
  method: HttpMethod;
  /** Express style (`/api/orders/:orderId`); written as `{orderId}` in the document. */
  path: string;
  summary: string;
  /** Who may call it; omitted = public. */
  auth?: 'customer' | 'admin' | 'any';
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export interface OpenApiSpec {
  title: string;
  version: string;
  description?: string;
  routes: OpenApiRoute[];
}

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  required: ['type', 'title', 'status'],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function parameters(where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined) {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType, 'input'),
  }));
}

const SUBJECT_LIMIT: OpenApiRoute['responses'][number] = {
  description:
    "The caller's read or write rate limit for this window is used up (RateLimit and RateLimit-Policy headers, Retry-After)",
};
const UNAUTHENTICATED: OpenApiRoute['responses'][number] = {
  description: 'Missing, invalid or expired bearer token (the reason in detail)',
};
const NOT_ADMIN: OpenApiRoute['responses'][number] = { description: 'The token lacks the admin role' };

/**
 * The route's answers, with those every authenticated route may give unless it describes them itself:
 * 401 (authenticate), 403 on an admin route (requireRole) and 429 (the caller's read or write limit,
 * rate-limit.ts).
 */
function responsesOf(route: OpenApiRoute): OpenApiRoute['responses'] {
  if (!route.auth) return route.responses;
  const defaults: OpenApiRoute['responses'] = { 401: UNAUTHENTICATED, 429: SUBJECT_LIMIT };
  if (route.auth === 'admin') defaults[403] = NOT_ADMIN;
  return { ...defaults, ...route.responses };
}

/**
 * Builds an OpenAPI 3.1 document from the same zod schemas the routes validate with, so the
 * document cannot drift from what the API accepts.
 */
export function buildOpenApiDocument(spec: OpenApiSpec): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of spec.routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(responsesOf(route))) {
      const contentType =
        r.contentType ?? (Number(status) >= 400 ? 'application/problem+json' : 'application/json');
      responses[status] = {
        description: r.description,
        ...(r.schema || Number(status) >= 400
          ? {
              content: {
                [contentType]: { schema: r.schema ? jsonSchema(r.schema, 'output') : problemSchema },
              },
            }
          : {}),
      };
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      ...(route.auth ? { security: [{ bearerAuth: [] }], 'x-required-role': route.auth } : {}),
      parameters: [
        ...parameters('path', route.params),
        ...parameters('query', route.query),
        ...parameters('header', route.headers),
      ],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: spec.title,
      version: spec.version,
      ...(spec.description ? { description: spec.description } : {}),
    },
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}

/** Serves the document at GET /openapi.json. */
export function serveOpenApi(app: Express, spec: OpenApiSpec): void {
  const document = buildOpenApiDocument(spec);
  app.get('/openapi.json', (_req, res) => void res.json(document));
}
