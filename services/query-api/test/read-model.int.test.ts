import { type AnyEvent, createEvent, foldOrder } from '@dispatch/contracts';
import {
  prng,
  SAGA_FINAL_STATUS,
  SAGA_PATHS,
  sampleEvents,
  shuffledWithDuplicates,
} from '@dispatch/contracts/testing';
import { assertStackReachable, http, shortId } from '@dispatch/testkit';
import type { OrderResponse } from '../src/domain/order-response';
import {
  dropKeyspaces,
  expectMatchesFold,
  startTestQueryApi,
  TEST_ISSUER,
  type TestQueryApi,
  testConfig,
} from './helpers';

/** Applies the events through the live consumer's handler, several at a time, in the given order. */
async function applyConcurrently(api: TestQueryApi, events: AnyEvent[], random: () => number): Promise<void> {
  let i = 0;
  while (i < events.length) {
    const n = 1 + Math.floor(random() * 4);
    await Promise.all(events.slice(i, i + n).map((e) => api.applyEvent(e)));
    i += n;
  }
}

describe('query-api read model (real Cassandra)', () => {
  const config = testConfig();
  let api: TestQueryApi;
  let admin: string;

  beforeAll(async () => {
    await assertStackReachable(['kafka', 'cassandra']);
    api = await startTestQueryApi(config);
    admin = await TEST_ISSUER.sign('admin-1', 'admin');
  });

  afterAll(async () => {
    await api?.stop();
    await dropKeyspaces(config.CASSANDRA_KEYSPACE);
  });

  const getOrder = (orderId: string, token = admin) =>
    http<OrderResponse>('GET', `${api.base}/api/orders/${encodeURIComponent(orderId)}`, { token });

  describe('convergence: shuffled, duplicated events give the fold’s view', () => {
    it.each([...SAGA_PATHS])('%s (3 seeds)', async (path) => {
      for (const seed of [1, 2, 3]) {
        const random = prng(seed * 100 + SAGA_PATHS.indexOf(path));
        const events = sampleEvents(path);
        await applyConcurrently(api, shuffledWithDuplicates(events, random), random);
        const view = foldOrder(events);
        expect(view.status).toBe(SAGA_FINAL_STATUS[path]);
        const response = await getOrder(view.orderId);
        expect(response.status).toBe(200);
        expectMatchesFold(response.body, view, events);
      }
    });

    it('late ETA updates arriving out of order keep the newest ETA', async () => {
      const events = sampleEvents('happy', { startAt: new Date(Date.now() - 3_600_000) });
      const [created, ...rest] = events as [AnyEvent, ...AnyEvent[]];
      const assigned = rest.find((e) => e.eventType === 'delivery.assigned');
      if (assigned?.eventType !== 'delivery.assigned') throw new Error('sample has no delivery.assigned');
      // Five more ETAs, one minute apart, delivered newest first.
      const etas = Array.from({ length: 5 }, (_, i) =>
        createEvent({
          eventType: 'eta.updated',
          orderId: created.orderId,
          correlationId: created.correlationId,
          causationId: assigned.eventId,
          producer: 'delivery-service',
          occurredAt: new Date(Date.parse(assigned.occurredAt) + (i + 1) * 60_000).toISOString(),
          payload: {
            ...assigned.payload,
            status: 'EN_ROUTE',
            estimatedDeliveryTime: new Date(
              Date.parse(assigned.occurredAt) + (40 - i) * 60_000,
            ).toISOString(),
          },
        }),
      );
      const withoutCompletion = events.filter((e) => e.eventType !== 'delivery.completed');
      for (const event of [...withoutCompletion, ...[...etas].reverse()]) await api.applyEvent(event);
      const all = [...withoutCompletion, ...etas];
      const response = await getOrder(created.orderId);
      expect(response.body.estimatedDeliveryTime).toBe(etas.at(-1)?.payload.estimatedDeliveryTime);
      expect(response.body.delivery?.etaEventId).toBe(etas.at(-1)?.eventId);
      expectMatchesFold(response.body, foldOrder(all), all);
      // An old ETA replayed once more changes nothing.
      await api.applyEvent(etas[0] as AnyEvent);
      expect((await getOrder(created.orderId)).body).toEqual(response.body);
    });

    it('a partial order (no order.created yet) is visible to admins with the fold’s status', async () => {
      const events = sampleEvents('happy').filter((e) => e.eventType.startsWith('payment.'));
      for (const event of events) await api.applyEvent(event);
      const response = await getOrder(events[0]?.orderId as string);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('PAYMENT_AUTHORIZED');
      expect(response.body.customerId).toBeNull();
      expectMatchesFold(response.body, foldOrder(events), events);
    });
  });

  describe('GET /api/orders/{id}', () => {
    const customerId = `customer-${shortId()}`;
    const events = sampleEvents('happy', { customerId });
    const orderId = events[0]?.orderId as string;

    beforeAll(async () => {
      for (const event of events) await api.applyEvent(event);
    });

    it('answers the seed fields, the sections and the timeline', async () => {
      const response = await getOrder(orderId, await TEST_ISSUER.sign(customerId));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(response.body)).toEqual(
        expect.arrayContaining([
          'orderId',
          'customerId',
          'totalAmount',
          'currency',
          'status',
          'createdAt',
          'updatedAt',
          'paymentId',
          'deliveryId',
          'driverName',
          'estimatedDeliveryTime',
          'inventory',
          'payment',
          'delivery',
          'compensation',
          'timeline',
        ]),
      );
      expect(response.body).toMatchObject({
        orderId,
        customerId,
        totalAmount: '64.99',
        currency: 'EUR',
        status: 'DELIVERED',
        paymentId: `pay-${orderId}`,
        deliveryId: `delivery-${orderId}`,
        driverName: 'Ada Rider',
      });
      expect(response.body.timeline.map((t) => t.eventType)).toEqual(events.map((e) => e.eventType));
      expect(response.body.timeline[0]).toEqual({
        eventType: 'order.created',
        occurredAt: events[0]?.occurredAt,
        eventId: events[0]?.eventId,
        producer: 'order-service',
      });
      expect(JSON.stringify(response.body)).not.toContain('tok_');
    });

    it('404 problem+json for an unknown order', async () => {
      const response = await getOrder(`order-${shortId()}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 404, title: 'Not found' });
    });

    it("a customer gets 404 for another customer's order; an admin sees it", async () => {
      expect((await getOrder(orderId, await TEST_ISSUER.sign(`customer-${shortId()}`))).status).toBe(404);
      expect((await getOrder(orderId, admin)).status).toBe(200);
    });

    it('401 without a valid bearer token', async () => {
      const anonymous = await http('GET', `${api.base}/api/orders/${orderId}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await getOrder(orderId, 'not.a.token')).status).toBe(401);
    });
  });

  describe('GET /api/orders (listing)', () => {
    const customerId = `customer-${shortId()}`;
    const base = Date.now() - 86_400_000;
    // Five orders a minute apart, applied oldest last so insertion order cannot explain the result.
    const orders = Array.from({ length: 5 }, (_, i) =>
      sampleEvents(i % 2 === 0 ? 'happy' : 'paymentFailed', {
        customerId,
        startAt: new Date(base + i * 60_000),
      }),
    );
    const newestFirst = [...orders].reverse().map((events) => events[0]?.orderId);

    beforeAll(async () => {
      for (const events of [...orders].reverse()) for (const event of events) await api.applyEvent(event);
    });

    const list = (query: string, token: string) =>
      http<{ customerId: string; items: OrderResponse[]; nextPageState: string | null }>(
        'GET',
        `${api.base}/api/orders?${query}`,
        { token },
      );

    it('pages newest first with an opaque pageState', async () => {
      const token = await TEST_ISSUER.sign(customerId);
      const seen: string[] = [];
      let pageState: string | null = null;
      let pages = 0;
      do {
        const query = new URLSearchParams({ limit: '2', ...(pageState ? { pageState } : {}) });
        const page = await list(query.toString(), token);
        expect(page.status).toBe(200);
        expect(page.body.customerId).toBe(customerId);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((o) => o.orderId));
        pageState = page.body.nextPageState;
        pages += 1;
      } while (pageState && pages < 10);
      expect(seen).toEqual(newestFirst);
      expect(pages).toBeGreaterThanOrEqual(3);
    });

    it('items carry the seed fields with the derived status', async () => {
      const page = await list(`customerId=${customerId}&limit=5`, admin);
      expect(page.body.items.map((o) => o.status)).toEqual([
        'DELIVERED',
        'PAYMENT_FAILED',
        'DELIVERED',
        'PAYMENT_FAILED',
        'DELIVERED',
      ]);
      expect(page.body.items[0]).toMatchObject({ customerId, totalAmount: '64.99', currency: 'EUR' });
      expect(page.body.items[0]).not.toHaveProperty('timeline');
    });

    it('a customer may list only their own orders; an admin must name the customer', async () => {
      const other = await TEST_ISSUER.sign(`customer-${shortId()}`);
      expect((await list(`customerId=${customerId}`, other)).status).toBe(403);
      const own = await list('', other);
      expect(own.status).toBe(200);
      expect(own.body.items).toEqual([]);
      const adminWithout = await list('', admin);
      expect(adminWithout.status).toBe(400);
      expect(adminWithout.body).toMatchObject({ errors: [{ path: 'customerId' }] });
    });

    it('refuses bad limits and page states it did not issue for this listing', async () => {
      const token = await TEST_ISSUER.sign(customerId);
      expect((await list('limit=0', token)).status).toBe(400);
      expect((await list('limit=101', token)).status).toBe(400);
      const first = await list('limit=2', token);
      const issued = first.body.nextPageState as string;
      expect(issued).toEqual(expect.any(String));
      const forged = await list('pageState=not-a-token!', token);
      expect(forged.status).toBe(400);
      expect(forged.body).toMatchObject({ errors: [{ path: 'pageState' }] });
      // Another customer's listing cannot use it.
      const otherCustomer = `customer-${shortId()}`;
      const replayed = await list(`pageState=${issued}`, await TEST_ISSUER.sign(otherCustomer));
      expect(replayed.status).toBe(400);
      // A tampered paging state inside a well-formed token is refused too (by Cassandra, answered 400).
      const bytes = Buffer.from(issued, 'base64url');
      const tampered = Buffer.concat([bytes.subarray(0, 9), Buffer.from('ff00ff00', 'hex')]).toString(
        'base64url',
      );
      expect((await list(`pageState=${tampered}`, token)).status).toBe(400);
    });
  });

  it('serves its OpenAPI document', async () => {
    const doc = await http<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      `${api.base}/openapi.json`,
    );
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths).sort()).toEqual([
      '/api/orders',
      '/api/orders/{orderId}',
      '/api/orders/{orderId}/events',
    ]);
  });
});
