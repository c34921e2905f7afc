import type { AnyEvent, EventEnvelope } from '@dispatch/contracts';
import { metricValue, outboxOf } from '@dispatch/testkit';
import type { Pool } from 'pg';
import type { DeliveryConfig } from '../src/config';
import {
  createDeliveryDatabase,
  createInstance,
  deadlocksDuring,
  deliveryOf,
  driverRow,
  freshOrderId,
  type Instance,
  insertDrivers,
  ManualClock,
  orderCancelled,
  orderCreated,
  outboxTypes,
  paymentAuthorized,
  type TestDatabase,
  testConfig,
} from './helpers';

/**
 * The handler pipelines (inbox → decision → store → outbox) against a fresh real database, with a
 * clock the test moves. Two instances = two pools and two handlers on the same database, as two
 * delivery-service processes would be.
 */
describe('driver assignment (real PostgreSQL)', () => {
  const DRIVER_WAIT_MS = 5_000;
  let db: TestDatabase;
  let config: DeliveryConfig;

  beforeAll(async () => {
    config = testConfig({ DRIVER_WAIT_MS: String(DRIVER_WAIT_MS), ASSIGN_RETRY_MS: '1000' });
  });

  // A fresh database per test: the driver pool is shared state.
  beforeEach(async () => {
    db = await createDeliveryDatabase();
  });

  afterEach(async () => {
    await db?.drop();
  });

  async function createAndPay(instance: Instance, orderId = freshOrderId()) {
    const created = orderCreated(orderId);
    const paid = paymentAuthorized(created);
    await instance.handle(created);
    await instance.handle(paid);
    return { orderId, created, paid };
  }

  it('payment.authorized assigns a free driver: delivery.assigned + eta.updated in the outbox, driver busy', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a', name: 'Ada' }]);

    const { orderId, paid } = await createAndPay(instance);

    const delivery = await deliveryOf(instance.pool, orderId);
    expect(delivery).toMatchObject({ status: 'ASSIGNED', driver_id: 'drv-a', driver_name: 'Ada' });
    const outbox = await outboxOf(instance.pool, orderId);
    expect(outbox.map((e) => e.eventType)).toEqual(['delivery.assigned', 'eta.updated']);
    const [assigned, eta] = outbox.map((e) => e.event) as [AnyEvent, AnyEvent];
    const expectedPayload = {
      orderId,
      deliveryId: delivery?.delivery_id,
      driverId: 'drv-a',
      driverName: 'Ada',
      status: 'ASSIGNED',
      estimatedDeliveryTime: delivery?.estimated_delivery_time?.toISOString(),
    };
    expect(assigned.payload).toEqual(expectedPayload);
    expect(eta.payload).toEqual(expectedPayload);
    // ETA = now + 10 min handling + ~2.4 km at 25 km/h (~5.7 min), from the default depot.
    const etaMs = new Date(expectedPayload.estimatedDeliveryTime ?? '').getTime() - clock.now().getTime();
    expect(etaMs).toBeGreaterThan(15 * 60_000);
    expect(etaMs).toBeLessThan(17 * 60_000);
    for (const e of [assigned, eta]) {
      expect(e).toMatchObject({
        causationId: paid.eventId,
        correlationId: paid.correlationId,
        producer: 'delivery-service',
      });
    }
    expect(await driverRow(instance.pool, 'drv-a')).toEqual({
      status: 'AVAILABLE',
      active_delivery_id: delivery?.delivery_id,
    });
    expect(await metricValue(instance.registry, 'delivery_assignments_total', { outcome: 'assigned' })).toBe(
      1,
    );
    expect(await metricValue(instance.registry, 'delivery_active')).toBe(1);
    expect(await metricValue(instance.registry, 'drivers_available')).toBe(0);
  });

  it('a redelivered payment.authorized is a no-op, also when two instances get it at once', async () => {
    const clock = new ManualClock();
    const a = createInstance(db, config, clock);
    const b = createInstance(db, config, clock);
    await insertDrivers(a.pool, [{ driverId: 'drv-a' }, { driverId: 'drv-b' }]);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    const paid = paymentAuthorized(created);
    await a.handle(created);

    await Promise.all([a.handle(paid), b.handle(paid)]);
    await a.handle(paid);

    expect(await outboxTypes(a.pool, orderId)).toEqual(['delivery.assigned', 'eta.updated']);
    const busy = await a.pool.query('SELECT driver_id FROM drivers WHERE active_delivery_id IS NOT NULL');
    expect(busy.rowCount).toBe(1);
    const total =
      (await metricValue(a.registry, 'delivery_assignments_total', { outcome: 'assigned' })) +
      (await metricValue(b.registry, 'delivery_assignments_total', { outcome: 'assigned' }));
    expect(total).toBe(1);
  });

  it('payment.authorized before order.created is kept (AWAITING_ORDER) and assigned when the address arrives', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);

    await instance.handle(paymentAuthorized(created));
    expect((await deliveryOf(instance.pool, orderId))?.status).toBe('AWAITING_ORDER');
    expect(await outboxTypes(instance.pool, orderId)).toEqual([]);
    // The scheduler leaves it alone however long it waits: there is no address to drive to.
    clock.advance(10 * DRIVER_WAIT_MS);
    await instance.scheduler.tick();
    expect((await deliveryOf(instance.pool, orderId))?.status).toBe('AWAITING_ORDER');

    await instance.handle(created);
    expect(await deliveryOf(instance.pool, orderId)).toMatchObject({
      status: 'ASSIGNED',
      driver_id: 'drv-a',
    });
    expect(await outboxTypes(instance.pool, orderId)).toEqual(['delivery.assigned', 'eta.updated']);
  });

  it('two instances assigning 20 orders against 5 drivers: no driver twice, 5 assigned, 15 fail after the wait', async () => {
    const clock = new ManualClock();
    const a = createInstance(db, config, clock);
    const b = createInstance(db, config, clock);
    await insertDrivers(
      a.pool,
      ['d1', 'd2', 'd3', 'd4', 'd5'].map((driverId) => ({ driverId })),
    );
    const orders = Array.from({ length: 20 }, () => {
      const created = orderCreated(freshOrderId());
      return { created, paid: paymentAuthorized(created) };
    });
    await Promise.all(orders.map((o, i) => (i % 2 === 0 ? a : b).handle(o.created)));

    // All twenty payments at once, split over the two instances.
    await Promise.all(orders.map((o, i) => (i % 2 === 0 ? a : b).handle(o.paid)));

    const statusCounts = async () => {
      const result = await a.pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM deliveries GROUP BY status',
      );
      return Object.fromEntries(result.rows.map((r) => [r.status, r.n]));
    };
    expect(await statusCounts()).toEqual({ ASSIGNED: 5, PENDING: 15 });
    const perDriver = await a.pool.query<{ driver_id: string; n: number }>(
      `SELECT driver_id, count(*)::int AS n FROM deliveries WHERE status IN ('ASSIGNED', 'EN_ROUTE') GROUP BY driver_id`,
    );
    expect(perDriver.rows.map((r) => r.driver_id).sort()).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
    expect(perDriver.rows.every((r) => r.n === 1)).toBe(true);
    const assignedEvents = await a.pool.query<{ driver_id: string }>(
      `SELECT payload->'payload'->>'driverId' AS driver_id FROM outbox WHERE event_type = 'delivery.assigned'`,
    );
    expect(new Set(assignedEvents.rows.map((r) => r.driver_id)).size).toBe(5);
    expect(assignedEvents.rowCount).toBe(5);

    // Before the deadline, both schedulers retry and find nobody: still pending, nothing failed.
    clock.advance(DRIVER_WAIT_MS / 2);
    await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(await statusCounts()).toEqual({ ASSIGNED: 5, PENDING: 15 });

    // At the deadline, the two schedulers together fail each pending delivery exactly once.
    clock.advance(DRIVER_WAIT_MS);
    await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(await statusCounts()).toEqual({ ASSIGNED: 5, FAILED: 15 });
    const failed = await a.pool.query<{ order_id: string; reason: string; status: string }>(
      `SELECT message_key AS order_id, payload->'payload'->>'reason' AS reason, payload->'payload'->>'status' AS status
         FROM outbox WHERE event_type = 'delivery.failed'`,
    );
    expect(failed.rowCount).toBe(15);
    expect(new Set(failed.rows.map((r) => r.order_id)).size).toBe(15);
    expect(failed.rows.every((r) => r.reason === 'NO_DRIVER_AVAILABLE' && r.status === 'FAILED')).toBe(true);
    const failedCount =
      (await metricValue(a.registry, 'delivery_assignments_total', { outcome: 'failed' })) +
      (await metricValue(b.registry, 'delivery_assignments_total', { outcome: 'failed' }));
    expect(failedCount).toBe(15);
  });

  it('a waiting delivery gets the driver who becomes available before its deadline', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-late', status: 'OFF_DUTY' }]);
    const { orderId } = await createAndPay(instance);
    expect((await deliveryOf(instance.pool, orderId))?.status).toBe('PENDING');

    await instance.pool.query(`UPDATE drivers SET status = 'AVAILABLE' WHERE driver_id = 'drv-late'`);
    clock.advance(1_000);
    const { attempts } = await instance.scheduler.tick();

    expect(attempts.map((a) => a.kind)).toEqual(['assigned']);
    expect(await deliveryOf(instance.pool, orderId)).toMatchObject({
      status: 'ASSIGNED',
      driver_id: 'drv-late',
    });
  });

  it('with every driver OFF_DUTY, the delivery fails with NO_DRIVER_AVAILABLE at the deadline', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [
      { driverId: 'off-1', status: 'OFF_DUTY' },
      { driverId: 'off-2', status: 'OFF_DUTY' },
    ]);
    const { orderId, paid } = await createAndPay(instance);
    expect((await deliveryOf(instance.pool, orderId))?.status).toBe('PENDING');

    clock.advance(DRIVER_WAIT_MS);
    await instance.scheduler.tick();

    expect(await deliveryOf(instance.pool, orderId)).toMatchObject({
      status: 'FAILED',
      driver_id: null,
      failure_reason: 'NO_DRIVER_AVAILABLE',
    });
    const outbox = await outboxOf(instance.pool, orderId);
    expect(outbox.map((e) => e.eventType)).toEqual(['delivery.failed']);
    expect(outbox[0]?.event).toMatchObject({
      causationId: paid.eventId,
      payload: { orderId, status: 'FAILED', reason: 'NO_DRIVER_AVAILABLE' },
    });
    // A failed delivery is final: later ticks and a redelivered payment change nothing.
    clock.advance(DRIVER_WAIT_MS);
    await instance.scheduler.tick();
    await instance.handle(paid);
    expect(await outboxTypes(instance.pool, orderId)).toEqual(['delivery.failed']);
  });

  it('order.cancelled before payment: the later payment.authorized assigns no driver', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    await instance.handle(created);
    await instance.handle(orderCancelled(created));

    await instance.handle(paymentAuthorized(created));

    expect(await deliveryOf(instance.pool, orderId)).toMatchObject({ status: 'CANCELLED', driver_id: null });
    expect(await outboxTypes(instance.pool, orderId)).toEqual([]);
    expect(await driverRow(instance.pool, 'drv-a')).toEqual({
      status: 'AVAILABLE',
      active_delivery_id: null,
    });
  });

  it('order.cancelled while waiting for a driver: cancelled, never assigned, never failed', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    const { orderId, created } = await createAndPay(instance);
    expect((await deliveryOf(instance.pool, orderId))?.status).toBe('PENDING');

    await instance.handle(orderCancelled(created));
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    clock.advance(1_000);
    await instance.scheduler.tick();
    clock.advance(DRIVER_WAIT_MS);
    await instance.scheduler.tick();

    expect(await deliveryOf(instance.pool, orderId)).toMatchObject({ status: 'CANCELLED', driver_id: null });
    expect(await outboxTypes(instance.pool, orderId)).toEqual([]);
  });

  it('order.cancelled that raced the assignment calls the delivery off and frees the driver', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    const { orderId, created } = await createAndPay(instance);
    expect((await deliveryOf(instance.pool, orderId))?.status).toBe('ASSIGNED');

    await instance.handle(orderCancelled(created));

    expect(await deliveryOf(instance.pool, orderId)).toMatchObject({ status: 'CANCELLED' });
    const driver = await instance.pool.query('SELECT active_delivery_id FROM drivers WHERE driver_id = $1', [
      'drv-a',
    ]);
    expect(driver.rows[0]?.active_delivery_id).toBeNull();
    // Nothing new is emitted: payment and inventory compensate on order.cancelled themselves.
    expect(await outboxTypes(instance.pool, orderId)).toEqual(['delivery.assigned', 'eta.updated']);
    expect(await metricValue(instance.registry, 'delivery_late_cancellations_total')).toBe(1);
  });

  describe('batches: several events in one transaction', () => {
    /**
     * Four orders and two drivers, over three batches as the consumer would fetch them (a payment
     * batch, an order batch, a payment batch), with redelivered events inside them: o4 is paid before
     * its order.created (parked, then assigned when the address arrives), o3 is cancelled before its
     * payment, o1 and o2 are paid together when only one driver is left. `apply` runs the batches.
     */
    async function scenario(instance: Instance, apply: (batches: AnyEvent[][]) => Promise<void>) {
      await insertDrivers(instance.pool, [{ driverId: 'd1' }, { driverId: 'd2' }]);
      const [o1, o2, o3, o4] = Array.from({ length: 4 }, () => orderCreated(freshOrderId())) as [
        EventEnvelope<'order.created'>,
        EventEnvelope<'order.created'>,
        EventEnvelope<'order.created'>,
        EventEnvelope<'order.created'>,
      ];
      const [p1, p2, p3, p4] = [o1, o2, o3, o4].map((o) => paymentAuthorized(o)) as [
        EventEnvelope<'payment.authorized'>,
        EventEnvelope<'payment.authorized'>,
        EventEnvelope<'payment.authorized'>,
        EventEnvelope<'payment.authorized'>,
      ];
      await apply([[p4], [o1, o2, o1, orderCancelled(o3), o3, o4], [p1, p2, p3, p1]]);
      return { orders: [o1, o2, o3, o4], duplicates: [o1, p1] };
    }

    /** The deliveries, drivers and outbox, with order and delivery ids replaced by the order's position. */
    async function endState(pool: Pool, orders: readonly AnyEvent[]) {
      const deliveries = await pool.query<{
        order_id: string;
        delivery_id: string;
        status: string;
        driver_id: string | null;
      }>('SELECT order_id, delivery_id, status, driver_id FROM deliveries WHERE order_id = ANY($1)', [
        orders.map((o) => o.orderId),
      ]);
      const position = (orderId: string) => orders.findIndex((o) => o.orderId === orderId);
      const byDelivery = new Map(deliveries.rows.map((d) => [d.delivery_id, position(d.order_id)]));
      const drivers = await pool.query<{ driver_id: string; active_delivery_id: string | null }>(
        'SELECT driver_id, active_delivery_id FROM drivers ORDER BY driver_id',
      );
      return {
        deliveries: orders.map((o) => {
          const d = deliveries.rows.find((row) => row.order_id === o.orderId);
          return d ? { status: d.status, driver: d.driver_id } : undefined;
        }),
        drivers: drivers.rows.map((d) => ({
          driver: d.driver_id,
          order: d.active_delivery_id === null ? null : byDelivery.get(d.active_delivery_id),
        })),
        outbox: await Promise.all(orders.map((o) => outboxTypes(pool, o.orderId))),
      };
    }

    it('several orders with duplicates in a batch end as the same events one at a time', async () => {
      const clock = new ManualClock();
      const batched = createInstance(db, config, clock);
      const other = await createDeliveryDatabase();
      try {
        const single = createInstance(other, config, clock);
        const a = await scenario(batched, async (batches) => {
          for (const batch of batches) await batched.handleBatch(batch);
        });
        const b = await scenario(single, async (batches) => {
          for (const event of batches.flat()) await single.handle(event);
        });

        const state = await endState(batched.pool, a.orders);
        expect(state).toEqual(await endState(single.pool, b.orders));
        expect(state).toEqual({
          deliveries: [
            { status: 'ASSIGNED', driver: 'd2' },
            { status: 'PENDING', driver: null },
            { status: 'CANCELLED', driver: null },
            { status: 'ASSIGNED', driver: 'd1' },
          ],
          drivers: [
            { driver: 'd1', order: 3 },
            { driver: 'd2', order: 0 },
          ],
          outbox: [['delivery.assigned', 'eta.updated'], [], [], ['delivery.assigned', 'eta.updated']],
        });
        for (const duplicate of a.duplicates) {
          const inbox = await batched.pool.query('SELECT 1 FROM inbox WHERE event_id = $1', [
            duplicate.eventId,
          ]);
          expect(inbox.rowCount).toBe(1);
        }
        // Metrics count what committed, once per attempt, in both runs.
        for (const instance of [batched, single]) {
          expect(
            await metricValue(instance.registry, 'delivery_assignments_total', { outcome: 'assigned' }),
          ).toBe(2);
          expect(await metricValue(instance.registry, 'delivery_eta_updates_total')).toBe(2);
        }
      } finally {
        await other.drop();
      }
    });

    it('a batch of payments never gives one driver twice', async () => {
      const clock = new ManualClock();
      const instance = createInstance(db, config, clock);
      await insertDrivers(instance.pool, [{ driverId: 'd1' }, { driverId: 'd2' }, { driverId: 'd3' }]);
      const orders = Array.from({ length: 5 }, () => orderCreated(freshOrderId()));
      await instance.handleBatch(orders);

      await instance.handleBatch(orders.map((o) => paymentAuthorized(o)));

      const result = await instance.pool.query<{ status: string; driver_id: string | null }>(
        'SELECT status, driver_id FROM deliveries ORDER BY driver_id',
      );
      expect(result.rows).toEqual([
        { status: 'ASSIGNED', driver_id: 'd1' },
        { status: 'ASSIGNED', driver_id: 'd2' },
        { status: 'ASSIGNED', driver_id: 'd3' },
        { status: 'PENDING', driver_id: null },
        { status: 'PENDING', driver_id: null },
      ]);
      const busy = await instance.pool.query(
        `SELECT 1 FROM drivers d JOIN deliveries x ON x.delivery_id = d.active_delivery_id AND x.driver_id = d.driver_id`,
      );
      expect(busy.rowCount).toBe(3);
    });

    it('order batches and payment batches of the same orders, in opposite orders on two instances, never deadlock', async () => {
      const clock = new ManualClock();
      const drivers = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
      await insertDrivers(
        createInstance(db, config, clock).pool,
        drivers.map((driverId) => ({ driverId })),
      );
      const orders = Array.from({ length: 48 }, () => orderCreated(freshOrderId()));
      const cancelled = new Set(orders.filter((_, i) => i % 4 === 0).map((o) => o.orderId));
      const chunks = <T>(list: readonly T[], size: number): T[][] =>
        Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
      // Instance A: the order topic's batches (each order's order.created, every fourth one's
      // order.cancelled right after it); instance B: the payment topic's, each batch in reverse.
      const orderBatches = chunks(orders, 8).map((batch) =>
        batch.flatMap((o): AnyEvent[] => (cancelled.has(o.orderId) ? [o, orderCancelled(o)] : [o])),
      );
      const paymentBatches = chunks(orders, 8).map((batch) =>
        [...batch].reverse().map((o) => paymentAuthorized(o)),
      );
      const inParallel = async (batches: AnyEvent[][], handle: (batch: AnyEvent[]) => Promise<void>) => {
        let next = 0;
        const worker = async () => {
          while (next < batches.length) await handle(batches[next++] ?? []);
        };
        await Promise.all([worker(), worker(), worker()]);
      };

      const deadlocks = await deadlocksDuring(db, 2, async ([poolA, poolB]) => {
        const a = createInstance(db, config, clock, poolA);
        const b = createInstance(db, config, clock, poolB);
        await Promise.all([
          inParallel(orderBatches, a.handleBatch),
          inParallel(paymentBatches, b.handleBatch),
        ]);
      });

      expect(deadlocks).toBe(0);
      const pool = db.newPool();
      const deliveries = await pool.query<{
        order_id: string;
        delivery_id: string;
        status: string;
        driver_id: string | null;
      }>('SELECT order_id, delivery_id, status, driver_id FROM deliveries');
      expect(deliveries.rowCount).toBe(48);
      for (const d of deliveries.rows) {
        if (cancelled.has(d.order_id)) expect(d.status).toBe('CANCELLED');
        else expect(['ASSIGNED', 'PENDING']).toContain(d.status);
      }
      // No driver twice, and every busy driver is on exactly the delivery that names it.
      const active = deliveries.rows.filter((d) => d.status === 'ASSIGNED');
      expect(active.length).toBeGreaterThan(0);
      expect(new Set(active.map((d) => d.driver_id)).size).toBe(active.length);
      const busy = await pool.query<{ driver_id: string; active_delivery_id: string }>(
        'SELECT driver_id, active_delivery_id FROM drivers WHERE active_delivery_id IS NOT NULL',
      );
      expect(new Map(busy.rows.map((r) => [r.driver_id, r.active_delivery_id]))).toEqual(
        new Map(active.map((d) => [d.driver_id, d.delivery_id])),
      );
    });
  });

  it('the database itself refuses a second active delivery for one driver (the durable guard)', async () => {
    const clock = new ManualClock();
    const instance = createInstance(db, config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    const { orderId } = await createAndPay(instance);
    const other = freshOrderId();
    await instance.pool.query(`INSERT INTO orders (order_id, updated_at) VALUES ($1, now())`, [other]);

    const second = instance.pool.query(
      `INSERT INTO deliveries (delivery_id, order_id, status, correlation_id, payment_event_id, payment_authorized_at,
          last_event_id, destination_lat, destination_lng, driver_id, driver_name, assigned_at,
          estimated_delivery_time, eta_checked_at, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'ASSIGNED', $1, gen_random_uuid(), now(), gen_random_uuid(), 51.5, -0.1,
          driver_id, driver_name, now(), now(), now(), now(), now()
         FROM deliveries WHERE order_id = $2`,
      [other, orderId],
    );

    await expect(second).rejects.toMatchObject({
      code: '23505',
      constraint: 'deliveries_one_active_per_driver',
    });
  });
});
