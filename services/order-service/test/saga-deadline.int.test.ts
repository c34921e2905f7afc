import { type EventType, Topics } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { createMetrics } from '@dispatch/platform';
import { eventually } from '@dispatch/testkit';
import type { Pool } from 'pg';
import { CANCELLABLE_STATUSES } from '../src/domain/cancellation';
import { createBatchHandler } from '../src/handlers';
import { createOrderRequestSchema } from '../src/http/schemas';
import { createOrderMetrics, type OrderMetrics } from '../src/metrics';
import { sagaDeadlineSweeper } from '../src/service';
import { lockNextStuckOrder } from '../src/store/orders';
import { cancelOrder } from '../src/use-cases/cancel-order';
import { createOrder } from '../src/use-cases/create-order';
import { expireStuckOrders } from '../src/use-cases/expire-stuck-orders';
import { createTestDatabase, customerId, orderBody, type TestDatabase, testLogger } from './helpers';

/**
 * The saga deadline sweeper against a fresh database that nothing else runs against (no outbox relay,
 * no consumer): orders are created with the create use case, moved along by the service's own event
 * handler with synthetic events, and aged by moving created_at back, so no test waits for time to pass.
 */

const DEADLINE_MS = 60_000;
const STUCK_FOR = '1 hour';

let db: TestDatabase;
/** Another instance's connections to the same database, for the concurrency cases. */
let otherInstancePool: Pool;

// A database per test, so one test's orders never grow past the deadline into another's sweep.
beforeEach(async () => {
  db = await createTestDatabase();
  otherInstancePool = db.newPool(4);
});

afterEach(async () => {
  await db?.drop();
});

function newMetrics(): { metrics: OrderMetrics; expiredCount: (status: string) => Promise<number> } {
  const platform = createMetrics('order-service');
  const metrics = createOrderMetrics(platform);
  return {
    metrics,
    expiredCount: async (status) => {
      const { values } = await metrics.sagaDeadlineExpired.get();
      return values.find((v) => v.labels.status === status)?.value ?? Number.NaN;
    },
  };
}

async function placeOrder(): Promise<{ orderId: string; customer: string }> {
  const customer = customerId();
  const answer = await createOrder(
    { pool: db.pool, metrics: newMetrics().metrics, logger: testLogger },
    {
      caller: { subject: customer, isAdmin: false },
      order: createOrderRequestSchema.parse(orderBody(customer)),
      rawBody: orderBody(customer),
    },
  );
  const orderId = String((JSON.parse(answer.body) as { orderId: string }).orderId);
  return { orderId, customer };
}

/** Feeds the order the sample events of these types (in saga order) through the service's handler. */
async function deliver(orderId: string, types: EventType[]): Promise<void> {
  const handle = createBatchHandler({ pool: db.pool, consumer: 'order-service' });
  const path = types.includes('inventory.rejected') ? 'inventoryRejected' : 'happy';
  const events = sampleEvents(path, { orderId }).filter((e) => types.includes(e.eventType));
  expect(new Set(events.map((e) => e.eventType))).toEqual(new Set(types));
  for (const event of events) {
    await handle([
      {
        event,
        topic: Topics.delivery,
        partition: 0,
        offset: '0',
        headers: {},
        logger: testLogger,
        attempt: 1,
      },
    ]);
  }
}

/** Makes the orders look created `by` earlier. */
async function age(orderIds: string[], by: string): Promise<void> {
  await db.pool.query(
    'UPDATE orders SET created_at = created_at - $2::interval WHERE order_id = ANY ($1::uuid[])',
    [orderIds, by],
  );
}

interface OrderRow {
  status: string;
  cancelled_by: string | null;
  cancel_reason: string | null;
  cancel_event_id: string | null;
  created_event_id: string;
}

async function rowOf(orderId: string): Promise<OrderRow> {
  const { rows } = await db.pool.query<OrderRow>(
    'SELECT status, cancelled_by, cancel_reason, cancel_event_id, created_event_id FROM orders WHERE order_id = $1',
    [orderId],
  );
  if (!rows[0]) throw new Error(`order ${orderId} not found`);
  return rows[0];
}

async function cancelEventsOf(orderId: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db.pool.query<{ payload: Record<string, unknown> }>(
    `SELECT payload FROM outbox WHERE message_key = $1 AND event_type = 'order.cancelled' ORDER BY id`,
    [orderId],
  );
  return rows.map((r) => r.payload);
}

describe('saga deadline sweeper', () => {
  it('cancels stuck CREATED, INVENTORY_RESERVED and PAYMENT_AUTHORIZED orders once, as SYSTEM, and leaves the rest alone', async () => {
    const created = await placeOrder();
    const reserved = await placeOrder();
    await deliver(reserved.orderId, ['inventory.reserved']);
    const authorized = await placeOrder();
    await deliver(authorized.orderId, ['inventory.reserved', 'payment.authorized']);
    const assigned = await placeOrder();
    await deliver(assigned.orderId, ['inventory.reserved', 'payment.authorized', 'delivery.assigned']);
    const delivered = await placeOrder();
    await deliver(delivered.orderId, [
      'inventory.reserved',
      'payment.authorized',
      'delivery.assigned',
      'eta.updated',
      'delivery.completed',
    ]);
    const rejected = await placeOrder();
    await deliver(rejected.orderId, ['inventory.rejected']);
    const customerCancelled = await placeOrder();
    await cancelOrder(
      { pool: db.pool, metrics: newMetrics().metrics },
      { caller: { subject: customerCancelled.customer, isAdmin: false }, orderId: customerCancelled.orderId },
    );
    const young = await placeOrder();

    const stuck = { CREATED: created, INVENTORY_RESERVED: reserved, PAYMENT_AUTHORIZED: authorized };
    const leftAlone = { DELIVERY_ASSIGNED: assigned, DELIVERED: delivered, INVENTORY_REJECTED: rejected };
    for (const [status, order] of Object.entries({ ...stuck, ...leftAlone })) {
      expect((await rowOf(order.orderId)).status).toBe(status);
    }
    expect((await rowOf(customerCancelled.orderId)).status).toBe('CANCELLED');
    const everyOld = [...Object.values(stuck), ...Object.values(leftAlone), customerCancelled].map(
      (o) => o.orderId,
    );
    await age(everyOld, STUCK_FOR);
    // Within the deadline, though not by much.
    await age([young.orderId], `${DEADLINE_MS / 2} milliseconds`);

    const { metrics, expiredCount } = newMetrics();
    const sweeper = sagaDeadlineSweeper(
      { SAGA_DEADLINE_MS: DEADLINE_MS, SAGA_SWEEP_INTERVAL_MS: 100 },
      { pool: db.pool, metrics, logger: testLogger },
    );
    try {
      await eventually(
        async () => {
          for (const order of Object.values(stuck))
            expect((await rowOf(order.orderId)).status).toBe('CANCELLED');
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
    } finally {
      // Waits for a running pass, so nothing changes after this.
      await sweeper.stop();
    }

    for (const [status, order] of Object.entries(stuck)) {
      const row = await rowOf(order.orderId);
      expect(row).toMatchObject({
        status: 'CANCELLED',
        cancelled_by: 'SYSTEM',
        cancel_reason: 'DEADLINE_EXCEEDED',
      });
      const events = await cancelEventsOf(order.orderId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        eventId: row.cancel_event_id,
        eventType: 'order.cancelled',
        orderId: order.orderId,
        correlationId: order.orderId,
        causationId: row.created_event_id,
        producer: 'order-service',
        payload: { orderId: order.orderId, cancelledBy: 'SYSTEM', reason: 'DEADLINE_EXCEEDED' },
      });
      expect(events[0]?.payload).not.toHaveProperty('actorId');
      expect(await expiredCount(status)).toBe(1);
    }

    for (const [status, order] of Object.entries(leftAlone)) {
      expect(await rowOf(order.orderId)).toMatchObject({ status, cancelled_by: null, cancel_event_id: null });
      expect(await cancelEventsOf(order.orderId)).toEqual([]);
    }
    expect(await rowOf(customerCancelled.orderId)).toMatchObject({
      status: 'CANCELLED',
      cancelled_by: 'CUSTOMER',
    });
    expect(await cancelEventsOf(customerCancelled.orderId)).toHaveLength(1);
    expect(await rowOf(young.orderId)).toMatchObject({ status: 'CREATED', cancelled_by: null });
    expect(await cancelEventsOf(young.orderId)).toEqual([]);

    // Another pass finds nothing left to do, and the customer's cancel now answers the system's one.
    expect(
      await expireStuckOrders({ pool: db.pool, metrics, logger: testLogger, deadlineMs: DEADLINE_MS }),
    ).toEqual([]);
    const again = await cancelOrder(
      { pool: db.pool, metrics: newMetrics().metrics },
      { caller: { subject: created.customer, isAdmin: false }, orderId: created.orderId },
    );
    expect(again.cancelledBy).toBe('SYSTEM');
    expect(await cancelEventsOf(created.orderId)).toHaveLength(1);
  });

  it('cancels each stuck order exactly once when two instances sweep at the same time', async () => {
    const orders = await Promise.all(Array.from({ length: 40 }, () => placeOrder()));
    const orderIds = orders.map((o) => o.orderId);
    await age(orderIds, STUCK_FOR);

    const a = newMetrics();
    const b = newMetrics();
    const [byA, byB] = await Promise.all([
      expireStuckOrders({ pool: db.pool, metrics: a.metrics, logger: testLogger, deadlineMs: DEADLINE_MS }),
      expireStuckOrders({
        pool: otherInstancePool,
        metrics: b.metrics,
        logger: testLogger,
        deadlineMs: DEADLINE_MS,
      }),
    ]);

    const cancelled = [...byA, ...byB].map((e) => e.orderId);
    expect(cancelled).toHaveLength(orderIds.length);
    expect(new Set(cancelled)).toEqual(new Set(orderIds));
    const { rows } = await db.pool.query<{ order_id: string; n: number }>(
      `SELECT message_key AS order_id, count(*)::int AS n FROM outbox
        WHERE event_type = 'order.cancelled' AND message_key = ANY ($1::text[]) GROUP BY message_key`,
      [orderIds],
    );
    expect(rows).toHaveLength(orderIds.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect((await a.expiredCount('CREATED')) + (await b.expiredCount('CREATED'))).toBe(orderIds.length);
    for (const status of CANCELLABLE_STATUSES.filter((s) => s !== 'CREATED')) {
      expect((await a.expiredCount(status)) + (await b.expiredCount(status))).toBe(0);
    }
  });

  it('skips an order another transaction holds locked instead of waiting, and takes it on a later pass', async () => {
    const locked = await placeOrder();
    const free = await placeOrder();
    await age([locked.orderId, free.orderId], STUCK_FOR);
    const { metrics } = newMetrics();
    const deps = { pool: db.pool, metrics, logger: testLogger, deadlineMs: DEADLINE_MS };

    // As a consumer or a customer's cancel would, mid-transaction on the order.
    const holder = await otherInstancePool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM orders WHERE order_id = $1 FOR UPDATE', [locked.orderId]);
      expect((await expireStuckOrders(deps)).map((e) => e.orderId)).toEqual([free.orderId]);
      expect((await rowOf(locked.orderId)).status).toBe('CREATED');
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }

    expect(await expireStuckOrders(deps)).toEqual([{ orderId: locked.orderId, stuckIn: 'CREATED' }]);
    expect(await cancelEventsOf(locked.orderId)).toHaveLength(1);
  });

  it('finds a stuck order through the index of in-flight orders, also with a generic plan, without reading finished ones', async () => {
    const stuck = await placeOrder();
    await age([stuck.orderId], STUCK_FOR);
    // Many finished orders older than the deadline, as a database in use for a while holds.
    await db.pool.query(
      `INSERT INTO orders (order_id, customer_id, currency, total_amount, status, delivery_address,
                           payment_method_type, facts, created_event_id, created_at, updated_at)
       SELECT gen_random_uuid(), customer_id, currency, total_amount, 'DELIVERED', delivery_address,
              payment_method_type, facts, gen_random_uuid(), created_at - n * interval '1 second', updated_at
         FROM orders, generate_series(1, 2000) AS n
        WHERE order_id = $1`,
      [stuck.orderId],
    );
    await db.pool.query('ANALYZE orders');

    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // The services' statements are named and turn generic after five runs; force that here.
      await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
      // This backend's scan counters not yet sent to the statistics (earlier statements' included).
      const scans = async () =>
        (
          await client.query<{ in_flight_index: string; other_index: string; seq_scans: string }>(
            `SELECT pg_stat_get_xact_numscans('orders_cancellable_created_idx'::regclass) AS in_flight_index,
                    pg_stat_get_xact_numscans('orders_customer_created_idx'::regclass) AS other_index,
                    (SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'orders') AS seq_scans`,
          )
        ).rows[0];
      const before = await scans();
      expect((await lockNextStuckOrder(client, DEADLINE_MS, []))?.orderId).toBe(stuck.orderId);
      const after = await scans();
      expect({
        inFlightIndex: Number(after?.in_flight_index) - Number(before?.in_flight_index),
        otherIndex: Number(after?.other_index) - Number(before?.other_index),
        seqScans: Number(after?.seq_scans) - Number(before?.seq_scans),
      }).toEqual({ inFlightIndex: 1, otherIndex: 0, seqScans: 0 });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});
