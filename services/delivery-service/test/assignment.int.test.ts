import type { AnyEvent } from '@dispatch/contracts';
import { metricValue, outboxOf } from '@dispatch/testkit';
import {
  createInstance,
  DRIVER_WAIT_MS,
  deliveryOf,
  driverRow,
  freshOrderId,
  insertDrivers,
  ManualClock,
  orderCreated,
  outboxTypes,
  paymentAuthorized,
  useAssignmentDatabase,
} from './helpers';

/**
 * The handler pipelines (inbox → decision → store → outbox) against a fresh real database, with a
 * clock the test moves. Two instances = two pools and two handlers on the same database, as two
 * delivery-service processes would be.
 */
describe('driver assignment (real PostgreSQL)', () => {
  const t = useAssignmentDatabase();

  it('payment.authorized assigns a free driver: delivery.assigned + eta.updated in the outbox, driver busy', async () => {
    const clock = new ManualClock();
    const instance = createInstance(t.db, t.config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a', name: 'Ada' }]);

    const { orderId, paid } = await t.createAndPay(instance);

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
    const a = createInstance(t.db, t.config, clock);
    const b = createInstance(t.db, t.config, clock);
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
    const instance = createInstance(t.db, t.config, clock);
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
    const a = createInstance(t.db, t.config, clock);
    const b = createInstance(t.db, t.config, clock);
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
    const instance = createInstance(t.db, t.config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-late', status: 'OFF_DUTY' }]);
    const { orderId } = await t.createAndPay(instance);
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
    const instance = createInstance(t.db, t.config, clock);
    await insertDrivers(instance.pool, [
      { driverId: 'off-1', status: 'OFF_DUTY' },
      { driverId: 'off-2', status: 'OFF_DUTY' },
    ]);
    const { orderId, paid } = await t.createAndPay(instance);
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

  it('the database itself refuses a second active delivery for one driver (the durable guard)', async () => {
    const clock = new ManualClock();
    const instance = createInstance(t.db, t.config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    const { orderId } = await t.createAndPay(instance);
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
