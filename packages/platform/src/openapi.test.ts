import { z } from 'zod';
import { buildOpenApiDocument } from './openapi';

describe('buildOpenApiDocument', () => {
  const body = z.object({ customerId: z.string().min(1), quantity: z.number().int().max(1000) });
  const doc = buildOpenApiDocument({
    title: 'test',
    version: '1',
    routes: [
      {
        method: 'post',
        path: '/api/orders/:orderId/cancel',
        summary: 'Cancel',
        auth: 'customer',
        params: z.object({ orderId: z.uuid() }),
        headers: z.object({ 'idempotency-key': z.string().max(255).optional() }),
        body,
        responses: { 202: { description: 'Accepted', schema: body }, 409: { description: 'Too late' } },
      },
    ],
  }) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

  const op = doc.paths['/api/orders/{orderId}/cancel']?.post ?? {};

  it('turns express paths and zod schemas into OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(op.security).toEqual([{ bearerAuth: [] }]);
    expect(op.parameters).toEqual([
      expect.objectContaining({ name: 'orderId', in: 'path', required: true }),
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: false }),
    ]);
    const schema = (op.requestBody as { content: Record<string, { schema: Record<string, unknown> }> })
      .content['application/json']?.schema;
    expect(schema).toMatchObject({
      type: 'object',
      required: ['customerId', 'quantity'],
      properties: { quantity: { type: 'integer', maximum: 1000 } },
    });
  });

  it('documents errors as problem+json', () => {
    const responses = op.responses as Record<string, { content: Record<string, unknown> }>;
    expect(Object.keys(responses['409']?.content ?? {})).toEqual(['application/problem+json']);
  });

  it("documents the caller's rate limit on every authenticated route", () => {
    const responses = op.responses as Record<
      string,
      { description: string; content: Record<string, unknown> }
    >;
    expect(responses['429']?.description).toMatch(/rate limit/);
    expect(Object.keys(responses['429']?.content ?? {})).toEqual(['application/problem+json']);
    const open = buildOpenApiDocument({
      title: 'test',
      version: '1',
      routes: [
        { method: 'get', path: '/things', summary: 'Open', responses: { 200: { description: 'ok' } } },
      ],
    }) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(Object.keys(open.paths['/things']?.get?.responses ?? {})).toEqual(['200']);
  });

  it('documents 401 on every authenticated route and 403 on admin routes, unless a route says otherwise', () => {
    const routes = buildOpenApiDocument({
      title: 'test',
      version: '1',
      routes: [
        {
          method: 'get',
          path: '/mine',
          summary: 'Any',
          auth: 'any',
          responses: { 200: { description: 'ok' } },
        },
        {
          method: 'get',
          path: '/all',
          summary: 'Admin',
          auth: 'admin',
          responses: { 200: { description: 'ok' } },
        },
        {
          method: 'get',
          path: '/theirs',
          summary: 'Own 403',
          auth: 'any',
          responses: { 200: { description: 'ok' }, 403: { description: 'Not your order' } },
        },
      ],
    }) as { paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };
    const answers = (path: string) => routes.paths[path]?.get?.responses ?? {};
    expect(Object.keys(answers('/mine'))).toEqual(['200', '401', '429']);
    expect(Object.keys(answers('/all'))).toEqual(['200', '401', '403', '429']);
    expect(answers('/all')['403']?.description).toMatch(/admin role/);
    expect(answers('/theirs')['403']?.description).toBe('Not your order');
    expect(Object.keys(op.responses as object)).toEqual(['202', '401', '409', '429']);
  });
});
