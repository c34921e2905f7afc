import { metricValue } from '@dispatch/testkit';
import {
  createInstance,
  DRIVER_WAIT_MS,
  deliveryOf,
  driverRow,
  freshOrderId,
  insertDrivers,
  ManualClock,
  orderCancelled,
  orderCreated,
  outboxTypes,
  paymentAuthorized,
  useAssignmentDatabase,
} from './helpers';

/**
 * The handler pipelines (inbox → decision → store → outbox) against a fresh real database, with a
 * clock the test moves. Two instances = two pools and two handlers on the same database, as two
 * delivery-service processes would be. Here: order.cancelled before, during and after the assignment.
 */
describe('driver assignment (real PostgreSQL)', () => {
  const t = useAssignmentDatabase();

  it('order.cancelled before payment: the later payment.authorized assigns no driver', async () => {
    const clock = new ManualClock();
    const instance = createInstance(t.db, t.config, clock);
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
    const instance = createInstance(t.db, t.config, clock);
    const { orderId, created } = await t.createAndPay(instance);
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
    const instance = createInstance(t.db, t.config, clock);
    await insertDrivers(instance.pool, [{ driverId: 'drv-a' }]);
    const { orderId, created } = await t.createAndPay(instance);
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
});
