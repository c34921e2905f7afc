import { randomUUID } from 'node:crypto';
import { createEvent } from '@dispatch/contracts';
import { eventually, type RawProducer, rawProducer } from '@dispatch/testkit';
import {
  adminToken,
  customerId,
  customerToken,
  orderBody,
  request,
  startTestOrderService,
  type TestOrderService,
  testLogger,
} from './helpers';

const PROBLEM = 'https://dispatch.dev/problems/';

let svc: TestOrderService;
let producer: RawProducer;

beforeAll(async () => {
  svc = await startTestOrderService();
  producer = await rawProducer({ clientId: `order-service-it-${randomUUID()}`, logger: testLogger });
});

afterAll(async () => {
  await producer?.disconnect();
  await svc?.stop();
});

async function createOrder(customer: string): Promise<{ orderId: string; token: string }> {
  const token = await customerToken(customer);
  const reply = await request(svc.base, '/api/orders', { body: orderBody(customer), token });
  expect(reply.status).toBe(201);
  return { orderId: String(reply.json.orderId), token };
}

function cancel(orderId: string, token: string, body?: unknown) {
  return request(svc.base, `/api/orders/${orderId}/cancel`, {
    token,
    ...(body === undefined ? {} : { body }),
  });
}

async function outboxOf(orderId: string) {
  const { rows } = await svc.db.query<{ event_type: string; payload: Record<string, unknown> }>(
    'SELECT event_type, payload FROM outbox WHERE message_key = $1 ORDER BY id',
    [orderId],
  );
  return rows;
}

/**
 * Other services may be running against the same topics and react to our order.created within moments,
 * so each cancel that must be accepted is sent right after the order is created.
 */
describe('POST /api/orders/{orderId}/cancel', () => {
  it('answers 202 and, in one transaction, marks the order CANCELLED and enqueues order.cancelled caused by order.created', async () => {
    const customer = customerId();
    const { orderId, token } = await createOrder(customer);
    const reply = await cancel(orderId, token, { reason: 'changed my mind' });

    expect(reply.status).toBe(202);
    expect(reply.json).toEqual({
      orderId,
      status: 'CANCELLED',
      cancelledBy: 'CUSTOMER',
      cancelledAt: expect.stringMatching(/Z$/),
    });
    const order = await svc.db.query(
      'SELECT status, cancelled_by, cancel_reason, cancel_event_id, created_event_id FROM orders WHERE order_id = $1',
      [orderId],
    );
    const row = order.rows[0];
    expect(row).toMatchObject({
      status: 'CANCELLED',
      cancelled_by: 'CUSTOMER',
      cancel_reason: 'changed my mind',
    });

    const events = await outboxOf(orderId);
    expect(events.map((e) => e.event_type)).toEqual(['order.created', 'order.cancelled']);
    expect(events[1]?.payload).toMatchObject({
      eventId: row.cancel_event_id,
      eventType: 'order.cancelled',
      orderId,
      correlationId: orderId,
      causationId: row.created_event_id,
      producer: 'order-service',
      occurredAt: reply.json.cancelledAt,
      payload: { orderId, cancelledBy: 'CUSTOMER', actorId: customer, reason: 'changed my mind' },
    });
  });

  it('answers a second cancel with the same 202 and emits nothing more', async () => {
    const { orderId, token } = await createOrder(customerId());
    const first = await cancel(orderId, token);
    const second = await cancel(orderId, token);

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.json).toEqual(first.json);
    expect((await outboxOf(orderId)).map((e) => e.event_type)).toEqual(['order.created', 'order.cancelled']);
  });

  it("lets an admin cancel a customer's order, as ADMIN", async () => {
    const { orderId } = await createOrder(customerId());
    const admin = `admin-${randomUUID()}`;
    const reply = await cancel(orderId, await adminToken(admin));

    expect(reply.status).toBe(202);
    expect(reply.json.cancelledBy).toBe('ADMIN');
    const events = await outboxOf(orderId);
    expect(events[1]?.payload.payload).toMatchObject({ cancelledBy: 'ADMIN', actorId: admin });
  });

  it('answers 409 once a delivery.assigned for the order has been consumed, and emits nothing', async () => {
    const customer = customerId();
    const { orderId, token } = await createOrder(customer);
    const created = await svc.db.query<{ created_event_id: string }>(
      'SELECT created_event_id FROM orders WHERE order_id = $1',
      [orderId],
    );
    const assigned = createEvent({
      eventType: 'delivery.assigned',
      orderId,
      correlationId: orderId,
      causationId: created.rows[0]?.created_event_id,
      producer: 'delivery-service',
      payload: {
        orderId,
        deliveryId: `delivery-${orderId}`,
        driverName: 'Ada Rider',
        driverId: 'driver-7',
        status: 'ASSIGNED',
        estimatedDeliveryTime: new Date(Date.now() + 45 * 60_000).toISOString(),
      },
    });
    await producer.send([assigned]);

    // Recorded through the inbox and folded into the order's facts. The status is DELIVERY_ASSIGNED, or
    // a terminal status if services running against the same topics ended the saga meanwhile (these
    // test SKUs are in no catalogue): either way no longer cancellable.
    const status = await eventually(
      async () => {
        const { rows } = await svc.db.query<{ status: string; delivery: string | null; seen: boolean }>(
          `SELECT status, facts -> 'delivery' ->> 'status' AS delivery,
                  EXISTS (SELECT 1 FROM inbox WHERE event_id = $2) AS seen
             FROM orders WHERE order_id = $1`,
          [orderId, assigned.eventId],
        );
        expect(rows[0]).toMatchObject({ seen: true, delivery: 'ASSIGNED' });
        return rows[0]?.status;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(['CREATED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'CANCELLED']).not.toContain(status);

    const reply = await cancel(orderId, token);
    expect(reply.status).toBe(409);
    expect(reply.json).toMatchObject({
      type: `${PROBLEM}order-not-cancellable`,
      status: 409,
      orderStatus: status,
    });
    expect((await outboxOf(orderId)).map((e) => e.event_type)).toEqual(['order.created']);
    const order = await svc.db.query('SELECT cancelled_at FROM orders WHERE order_id = $1', [orderId]);
    expect(order.rows[0].cancelled_at).toBeNull();
  });

  it('counts cancellations by outcome on /metrics', async () => {
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(
      /^order_cancellations_total\{outcome="accepted",service="order-service"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^order_cancellations_total\{outcome="already_cancelled",service="order-service"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^order_cancellations_total\{outcome="rejected",service="order-service"\} [1-9]/m,
    );
  });
});
