import { type AnyEvent, Topics } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import type { ConsumedEvent } from '@dispatch/platform';
import { createMetrics } from '@dispatch/platform';
import { createBatchHandler } from '../src/handlers';
import { createOrderRequestSchema } from '../src/http/schemas';
import { createOrderMetrics } from '../src/metrics';
import { createOrder } from '../src/use-cases/create-order';
import { createTestDatabase, customerId, orderBody, type TestDatabase, testLogger } from './helpers';

/**
 * order-service's consumer folds a whole batch in three statements (lock and read the orders, fold in
 * memory, store): against a fresh database, a batch must end exactly where the same events one batch
 * each end, whatever else it holds.
 */

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db?.drop();
});

async function placeOrder(): Promise<string> {
  const customer = customerId();
  const answer = await createOrder(
    { pool: db.pool, metrics: createOrderMetrics(createMetrics('order-service')), logger: testLogger },
    {
      caller: { subject: customer, isAdmin: false },
      order: createOrderRequestSchema.parse(orderBody(customer)),
      rawBody: orderBody(customer),
    },
  );
  return String((JSON.parse(answer.body) as { orderId: string }).orderId);
}

const consumed = (event: AnyEvent, offset: number): ConsumedEvent => ({
  event,
  topic: Topics.delivery,
  partition: 0,
  offset: String(offset),
  headers: {},
  logger: testLogger,
  attempt: 1,
});

async function stateOf(orderId: string): Promise<{ status: string; facts: unknown }> {
  const { rows } = await db.pool.query<{ status: string; facts: unknown }>(
    'SELECT status, facts FROM orders WHERE order_id = $1',
    [orderId],
  );
  if (!rows[0]) throw new Error(`order ${orderId} not found`);
  return rows[0];
}

/** The happy path's events after order.created, up to delivery.assigned. */
function progressEvents(orderId: string): AnyEvent[] {
  return sampleEvents('happy', { orderId }).filter((e) =>
    ['inventory.reserved', 'payment.authorized', 'delivery.assigned'].includes(e.eventType),
  );
}

describe("order-service's event handler, a batch at a time", () => {
  it('folds one batch of several orders, a duplicate and a stranger exactly as one event per batch', async () => {
    const [single, batched, other] = [await placeOrder(), await placeOrder(), await placeOrder()];
    const handle = createBatchHandler({ pool: db.pool, consumer: 'order-service' });

    const one = progressEvents(single);
    for (const [i, event] of one.entries()) await handle([consumed(event, i)]);

    const mine = progressEvents(batched);
    const theirs = progressEvents(other).slice(0, 1);
    const stranger = sampleEvents('happy', { orderId: '7d9f3c1e-1111-4aaa-8bbb-000000000000' })[1]!;
    // Effects before their causes, two orders interleaved, one event twice, an order not ours.
    await handle(
      [mine[2]!, theirs[0]!, mine[0]!, stranger, mine[1]!, mine[0]!].map((event, i) => consumed(event, i)),
    );

    const expected = await stateOf(single);
    expect(expected.status).toBe('DELIVERY_ASSIGNED');
    const got = await stateOf(batched);
    expect(got.status).toBe(expected.status);
    // Facts name the order's own event ids; compare their shape, event type by event type.
    expect(Object.keys(got.facts as object).sort()).toEqual(Object.keys(expected.facts as object).sort());
    expect((await stateOf(other)).status).toBe('INVENTORY_RESERVED');
    const { rows } = await db.pool.query('SELECT 1 FROM orders WHERE order_id = $1', [stranger.orderId]);
    expect(rows).toHaveLength(0);
  });
});
