import { randomUUID } from 'node:crypto';
import {
  eventually,
  openSse,
  reopenSse,
  requireRunningServices,
  SERVICE_NAMES,
  type SseClient,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';
import { createItem, expectStatus, http, orderBody, postOrder, readOrder, uniqueId } from './support/api';

interface OpenApiDocument {
  paths: Record<string, Record<string, { security?: unknown[] }>>;
}

/** Every route a service's /openapi.json says needs a bearer token, with its path parameters filled. */
async function authenticatedRoutes(service: (typeof SERVICE_NAMES)[number]) {
  const doc = (await (await fetch(`${serviceUrl(service)}/openapi.json`)).json()) as OpenApiDocument;
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, op]) => op.security !== undefined)
      // Ids nobody has: every request is refused (400/404) after authentication, nothing is changed.
      .map(([method, _]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{\w+\}/g, `e2e-limits-${randomUUID().slice(0, 8)}`),
      })),
  );
}

/** A fresh customer with an order query-api already shows (not terminal for a while: the saga is running). */
async function customerWithOrder(): Promise<{ customerId: string; url: string }> {
  const customerId = uniqueId('e2e-streams');
  const item = await createItem({ available: 5, unitPrice: '3.00' });
  const answer = await postOrder(
    customerId,
    orderBody(customerId, [{ itemId: item.itemId, quantity: 1, unitPrice: '3.00' }]),
  );
  expectStatus(answer, 201, 'POST /api/orders');
  const { orderId } = answer.body;
  await eventually(async () => expect(await readOrder(orderId)).toBeDefined(), {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  return { customerId, url: `${serviceUrl('query-api')}/api/orders/${orderId}/events` };
}

describe('rate limits and live stream limits on the running stack', () => {
  beforeAll(async () => {
    await requireRunningServices([...SERVICE_NAMES]);
  });

  it.each(SERVICE_NAMES)(
    '%s: every authenticated route counts against the read or write limit and says so in RateLimit headers',
    async (service) => {
      const routes = await authenticatedRoutes(service);
      expect(routes.length).toBeGreaterThan(0);
      const token = await tokenFor(uniqueId('e2e-limits'), 'admin');
      for (const route of routes) {
        const kind = ['GET', 'HEAD', 'OPTIONS'].includes(route.method) ? 'read' : 'write';
        const answer = await http(route.method, `${serviceUrl(service)}${route.path}`, {
          token,
          ...(kind === 'write' ? { body: {} } : {}),
        });
        const what = `${service} ${route.method} ${route.path} → ${answer.status}`;
        expect(`${what}: ${answer.status < 500 && answer.status !== 429}`).toBe(`${what}: true`);
        expect(`${what}: ${answer.headers.get('ratelimit-policy')}`).toMatch(
          new RegExp(`: "${kind}";q=\\d+;w=\\d+`),
        );
        expect(`${what}: ${answer.headers.get('ratelimit')}`).toMatch(
          new RegExp(`: "${kind}";r=\\d+;t=\\d+`),
        );

        const anonymous = await http(route.method, `${serviceUrl(service)}${route.path}`);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('ratelimit')).toBeNull();
      }
    },
  );

  it('refuses a customer a stream beyond their limit with 429, and frees the slot when one closes', async () => {
    const { customerId, url } = await customerWithOrder();
    const token = await tokenFor(customerId);
    const streams: SseClient[] = [];
    try {
      // The stack's limit is its own (SSE_MAX_STREAMS_PER_CUSTOMER): open streams until one is refused.
      for (let i = 0; i < 100; i += 1) {
        const stream = await openSse(url, token);
        streams.push(stream);
        if (stream.status !== 200) break;
      }
      expect(streams.at(-1)?.status).toBe(429);
      const refused = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const problem = (await refused.json()) as { type: string; limit: number };
      expect(problem.type).toBe('https://dispatch.dev/problems/too-many-streams-per-customer');
      // Exactly the limit the 429 names was let through.
      expect(streams.filter((s) => s.status === 200)).toHaveLength(problem.limit);

      streams[0]?.close();
      await reopenSse(streams, url, token);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('ends a stream when its token expires, with event: token-expired', async () => {
    const { customerId, url } = await customerWithOrder();
    const stream = await openSse(url, await tokenFor(customerId, 'customer', { ttl: '3s' }));
    try {
      expect(stream.status).toBe(200);
      for (;;) {
        const frame = await stream.next(15_000);
        if (frame.event === 'order') continue;
        expect(frame.event).toBe('token-expired');
        expect(Date.now()).toBeGreaterThanOrEqual(
          Date.parse((JSON.parse(frame.data) as { expiredAt: string }).expiredAt),
        );
        break;
      }
      await stream.ended;
    } finally {
      stream.close();
    }
  });
});
