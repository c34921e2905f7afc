import { randomUUID } from 'node:crypto';
import { parseEnvelope, Topics } from '@dispatch/contracts';
import { createKafka, type KafkaClient, readDlq } from '@dispatch/platform';
import { eventually, stackAddresses } from '@dispatch/testkit';
import { adminToken, customerId, customerToken, orderBody, testLogger, useTestOrderService } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const { svc, postOrder } = useTestOrderService();
let kafka: KafkaClient;

beforeAll(() => {
  kafka = createKafka({
    ...stackAddresses().kafka,
    clientId: `order-service-it-${randomUUID()}`,
    logger: testLogger,
  });
});

describe('POST /api/orders creates an order', () => {
  it('answers 201 with Location and the seed fields, writes the order, its lines and order.created, which reaches Kafka', async () => {
    const customer = customerId();
    const body = orderBody(customer);
    const reply = await postOrder(body, await customerToken(customer));

    expect(reply.status).toBe(201);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    const orderId = String(reply.json.orderId);
    expect(orderId).toMatch(UUID);
    expect(reply.headers.get('location')).toBe(`/api/orders/${orderId}`);
    expect(reply.json).toEqual({
      orderId,
      customerId: customer,
      totalAmount: '64.99',
      currency: 'EUR',
      status: 'CREATED',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });

    // The status is not asserted: other services may already be reacting to order.created.
    const order = await svc.db.query(
      'SELECT customer_id, currency, total_amount::text, created_at, created_event_id FROM orders WHERE order_id = $1',
      [orderId],
    );
    expect(order.rows).toEqual([
      {
        customer_id: customer,
        currency: 'EUR',
        total_amount: '64.99',
        created_at: new Date(String(reply.json.createdAt)),
        created_event_id: expect.any(String),
      },
    ]);
    const lines = await svc.db.query(
      'SELECT line_no, item_id, quantity, unit_price::text FROM order_lines WHERE order_id = $1 ORDER BY line_no',
      [orderId],
    );
    expect(lines.rows).toEqual([
      { line_no: 1, item_id: 'it-order-service-beans', quantity: 2, unit_price: '12.50' },
      { line_no: 2, item_id: 'it-order-service-frother', quantity: 1, unit_price: '39.99' },
    ]);
    const outbox = await svc.db.query(
      'SELECT topic, message_key, event_id, event_type FROM outbox WHERE message_key = $1',
      [orderId],
    );
    expect(outbox.rows).toEqual([
      {
        topic: Topics.order,
        message_key: orderId,
        event_id: order.rows[0].created_event_id,
        event_type: 'order.created',
      },
    ]);

    const published = await eventually(
      async () => {
        const records = await readDlq(kafka, Topics.order);
        const mine = records.filter((r) => r.key?.toString() === orderId);
        expect(mine).toHaveLength(1);
        return mine[0]!;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const parsed = parseEnvelope(published.value ?? '');
    if (!parsed.ok) throw parsed.error;
    expect(parsed.event).toMatchObject({
      eventId: order.rows[0].created_event_id,
      eventType: 'order.created',
      orderId,
      correlationId: orderId,
      producer: 'order-service',
      occurredAt: reply.json.createdAt,
      payload: { ...body, orderId, totalAmount: '64.99' },
    });
    expect(parsed.event.causationId).toBeUndefined();
  });

  it('accepts a line without unitPrice: 201, a NULL unit_price, the total over the priced lines, and order.created without that unitPrice', async () => {
    const customer = customerId();
    const body = {
      ...orderBody(customer),
      items: [
        { itemId: 'it-order-service-beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'it-order-service-frother', quantity: 1 },
      ],
    };
    const reply = await postOrder(body, await customerToken(customer));

    expect(reply.status).toBe(201);
    const orderId = String(reply.json.orderId);
    expect(reply.headers.get('location')).toBe(`/api/orders/${orderId}`);
    expect(reply.json).toMatchObject({
      orderId,
      customerId: customer,
      totalAmount: '25.00',
      status: 'CREATED',
    });

    const lines = await svc.db.query(
      'SELECT line_no, item_id, quantity, unit_price::text FROM order_lines WHERE order_id = $1 ORDER BY line_no',
      [orderId],
    );
    expect(lines.rows).toEqual([
      { line_no: 1, item_id: 'it-order-service-beans', quantity: 2, unit_price: '12.50' },
      { line_no: 2, item_id: 'it-order-service-frother', quantity: 1, unit_price: null },
    ]);

    const published = await eventually(
      async () => {
        const records = await readDlq(kafka, Topics.order);
        const mine = records.filter((r) => r.key?.toString() === orderId);
        expect(mine).toHaveLength(1);
        return mine[0]!;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const parsed = parseEnvelope(published.value ?? '');
    if (!parsed.ok) throw parsed.error;
    if (parsed.event.eventType !== 'order.created') throw new Error(`unexpected ${parsed.event.eventType}`);
    expect(parsed.event.payload.totalAmount).toBe('25.00');
    expect(parsed.event.payload.items).toEqual(body.items);
    expect(parsed.event.payload.items[1]).not.toHaveProperty('unitPrice');
  });

  it("accepts the seed's money as JSON numbers: stored, answered and published as canonical strings", async () => {
    const customer = customerId();
    const body = {
      ...orderBody(customer),
      items: [
        { itemId: 'it-order-service-beans', quantity: 2, unitPrice: 12.5 },
        { itemId: 'it-order-service-frother', quantity: 1, unitPrice: 39.99 },
      ],
    };
    const reply = await postOrder(body, await customerToken(customer));
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ customerId: customer, totalAmount: '64.99', status: 'CREATED' });
    const orderId = String(reply.json.orderId);

    const lines = await svc.db.query(
      'SELECT item_id, unit_price::text FROM order_lines WHERE order_id = $1 ORDER BY line_no',
      [orderId],
    );
    expect(lines.rows).toEqual([
      { item_id: 'it-order-service-beans', unit_price: '12.50' },
      { item_id: 'it-order-service-frother', unit_price: '39.99' },
    ]);
    const outbox = await svc.db.query<{ payload: { payload: { items: unknown[]; totalAmount: unknown } } }>(
      'SELECT payload FROM outbox WHERE message_key = $1',
      [orderId],
    );
    expect(outbox.rows[0]?.payload.payload).toMatchObject({
      totalAmount: '64.99',
      items: [
        { itemId: 'it-order-service-beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'it-order-service-frother', quantity: 1, unitPrice: '39.99' },
      ],
    });
  });

  it('lets an admin order for any customer', async () => {
    const customer = customerId();
    const reply = await postOrder(orderBody(customer), await adminToken());
    expect(reply.status).toBe(201);
    expect(reply.json.customerId).toBe(customer);
  });

  it('counts created orders by currency on /metrics', async () => {
    const customer = customerId();
    const reply = await postOrder({ ...orderBody(customer), currency: 'SEK' }, await customerToken(customer));
    expect(reply.status).toBe(201);
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/^orders_created_total\{currency="SEK",service="order-service"\} [1-9]/m);
  });

  it('serves its OpenAPI document from the route schemas', async () => {
    const res = await fetch(`${svc.base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/orders', '/api/orders/{orderId}/cancel']);
    expect(JSON.stringify(doc.paths['/api/orders']?.post?.requestBody)).toContain('"maxItems":50');
  });
});
