import { requireRunningServices, serviceUrl } from '@dispatch/testkit';
import { createItem, FAR_FROM_DEPOT_ADDRESS, getItem, uniqueId } from './support/api';
import {
  cancelOrder,
  completeDelivery,
  type Driver,
  ensureFreeDrivers,
  getDelivery,
  getDriver,
  getPayment,
  metricSum,
  paymentRowsPerOrder,
  placeOrderPaidWith,
  putDriver,
  scrape,
  settleOrders,
  timelineCount,
  waitForSettledPayment,
  waitForStatus,
  waitForStock,
  waitForView,
} from './support/saga';

/**
 * The back half of the saga on the running stack: payment (by the simulated gateway's card tokens),
 * delivery and the compensations, each order with a fresh catalogue item.
 */
describe('an order through payment and delivery', () => {
  const placed: { orderId: string; customerId: string }[] = [];
  const drivers: Driver[] = [];

  beforeAll(() =>
    requireRunningServices([
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
      'query-api',
    ]),
  );

  afterAll(async () => {
    await settleOrders(placed);
    // Our drivers go off duty again, so they do not pile up as free drivers across runs.
    for (const driver of drivers)
      await putDriver(driver.driverId, driver.name, 'OFF_DUTY').catch(() => undefined);
  });

  it('tok_visa: DELIVERY_ASSIGNED with a driver and an ETA, then completed → DELIVERED and the stock is sold', async () => {
    const item = await createItem({ available: 5, unitPrice: '7.25' });
    drivers.push(...(await ensureFreeDrivers(1))); // a free driver for this order, whatever others left busy
    const customerId = uniqueId('e2e-visa');

    // Far away, so the local stack's simulated fleet is still driving when this test completes the
    // delivery itself (tests/e2e/fleet.test.ts covers the fleet's own completion).
    const created = await placeOrderPaidWith(
      customerId,
      [{ itemId: item.itemId, quantity: 2, unitPrice: '7.25' }],
      'tok_visa',
      undefined,
      FAR_FROM_DEPOT_ADDRESS,
    );
    placed.push({ orderId: created.orderId, customerId });

    const assigned = await waitForStatus(created.orderId, ['DELIVERY_ASSIGNED']);
    expect(assigned.payment).toMatchObject({ status: 'AUTHORIZED', amount: '14.50' });
    expect(assigned.delivery).toMatchObject({ status: 'ASSIGNED' });
    const driverId = assigned.delivery?.driverId;
    expect(typeof driverId).toBe('string');
    expect(assigned.driverName).toEqual(expect.any(String));
    expect(assigned.deliveryId).toBe(assigned.delivery?.deliveryId);
    expect(assigned.paymentId).toBe(assigned.payment?.paymentId);
    // The ETA is in the future (handling time plus the drive from the depot).
    expect(Date.parse(assigned.estimatedDeliveryTime ?? '')).toBeGreaterThan(Date.now());

    // delivery-service and payment-service agree with the read model.
    const delivery = await getDelivery(created.orderId);
    expect(delivery).toMatchObject({ deliveryId: assigned.deliveryId, driverId });
    expect(['ASSIGNED', 'EN_ROUTE']).toContain(delivery?.status);
    expect((await getDriver(driverId!)).activeDeliveryId).toBe(assigned.deliveryId);
    expect(await getPayment(created.orderId)).toMatchObject({
      paymentId: assigned.paymentId,
      status: 'AUTHORIZED',
      amount: '14.50',
      refund: null,
    });
    expect(await getItem(item.itemId)).toMatchObject({ available: 3, reserved: 2 });

    await completeDelivery(created.orderId);

    const delivered = await waitForStatus(created.orderId, ['DELIVERED']);
    expect(delivered.delivery).toMatchObject({ status: 'COMPLETED', deliveryId: assigned.deliveryId });
    expect(delivered.compensation).toMatchObject({ inventoryReleased: false, paymentRefunded: false });
    expect(delivered.timeline.map((entry) => entry.eventType)).toEqual(
      expect.arrayContaining([
        'order.created',
        'inventory.reserved',
        'payment.authorized',
        'delivery.assigned',
        'eta.updated',
        'delivery.completed',
      ]),
    );
    // Sold: the reserved units leave for good; nothing goes back to available.
    const sold = await waitForStock(item.itemId, (stock) => stock.reserved === 0);
    expect(sold).toMatchObject({ available: 3, reserved: 0 });
    expect((await getDriver(driverId!)).activeDeliveryId).toBeNull();
  });

  it('tok_declined: PAYMENT_FAILED (card_declined), the reservation released and stock back where it was', async () => {
    const item = await createItem({ available: 4, unitPrice: '3.10' });
    const before = await getItem(item.itemId);
    const customerId = uniqueId('e2e-declined');

    const created = await placeOrderPaidWith(
      customerId,
      [{ itemId: item.itemId, quantity: 3, unitPrice: '3.10' }],
      'tok_declined',
    );
    placed.push({ orderId: created.orderId, customerId });

    const failed = await waitForView(created.orderId, (view) => {
      if (view.status !== 'PAYMENT_FAILED' || !view.compensation.inventoryReleased) {
        throw new Error(`order is ${view.status}, released=${view.compensation.inventoryReleased}`);
      }
    });
    expect(failed.payment).toMatchObject({
      status: 'FAILED',
      failureReason: 'card_declined',
      amount: '9.30',
    });
    expect(failed.compensation).toMatchObject({
      inventoryReleased: true,
      releaseReason: 'PAYMENT_FAILED',
      paymentRefunded: false,
    });
    expect(timelineCount(failed, 'payment.failed')).toBe(1);
    expect(timelineCount(failed, 'payment.authorized')).toBe(0);
    expect(timelineCount(failed, 'inventory.released')).toBe(1);
    expect(await getPayment(created.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'card_declined',
    });
    expect(await waitForStock(item.itemId, (stock) => stock.reserved === 0)).toEqual(before);
  });

  it('tok_flaky: the first gateway attempt fails, the retry authorizes, one payment', async () => {
    const item = await createItem({ available: 2, unitPrice: '5.00' });
    const paymentUrl = serviceUrl('payment-service');
    const failedAttempts = async () =>
      metricSum(await scrape(paymentUrl), 'payment_gateway_request_duration_seconds_count', {
        operation: 'charge',
        outcome: 'error',
      });
    const failedAttemptsBefore = await failedAttempts();
    const customerId = uniqueId('e2e-flaky');

    const created = await placeOrderPaidWith(
      customerId,
      [{ itemId: item.itemId, quantity: 1, unitPrice: '5.00' }],
      'tok_flaky',
    );
    placed.push({ orderId: created.orderId, customerId });

    const paid = await waitForView(created.orderId, (view) => {
      if (!view.payment) throw new Error(`order is ${view.status}, payment not decided yet`);
    });
    expect(paid.payment).toMatchObject({ status: 'AUTHORIZED', amount: '5.00' });
    // The simulated fleet may already have delivered it (a few seconds after assignment).
    expect(['PAYMENT_AUTHORIZED', 'DELIVERY_ASSIGNED', 'DELIVERED']).toContain(paid.status);
    expect(await getPayment(created.orderId)).toMatchObject({ status: 'AUTHORIZED', failureReason: null });
    // The failed first attempt is on record (the simulator fails tok_flaky's first attempt with a transient error).
    expect(await failedAttempts()).toBeGreaterThanOrEqual(failedAttemptsBefore + 1);
    expect((await paymentRowsPerOrder([created.orderId])).get(created.orderId)?.count).toBe(1);
    expect(timelineCount(paid, 'payment.authorized')).toBe(1);
  });

  it('cancelled right after it is placed: CANCELLED, stock released once, nothing charged (or refunded once)', async () => {
    const item = await createItem({ available: 3, unitPrice: '8.00' });
    const before = await getItem(item.itemId);
    const customerId = uniqueId('e2e-cancel-early');

    const created = await placeOrderPaidWith(
      customerId,
      [{ itemId: item.itemId, quantity: 1, unitPrice: '8.00' }],
      'tok_visa',
    );
    placed.push({ orderId: created.orderId, customerId });
    const cancel = await cancelOrder(created.orderId, customerId);
    expect(cancel.status).toBe(202);

    // Payment always answers the reservation: failed (ORDER_CANCELLED) if the cancel came first,
    // else authorized and then refunded. Wait until it has settled either way.
    const payment = await waitForSettledPayment(created.orderId);
    const view = await waitForView(created.orderId, (v) => {
      if (v.status !== 'CANCELLED' || !v.compensation.inventoryReleased) {
        throw new Error(`order is ${v.status}, released=${v.compensation.inventoryReleased}`);
      }
      const settledInView = payment.status === 'FAILED' ? 'payment.failed' : 'payment.refunded';
      if (timelineCount(v, settledInView) === 0) throw new Error(`${settledInView} not in the timeline yet`);
    });

    expect(view.cancellation).toMatchObject({ cancelledBy: 'CUSTOMER' });
    expect(timelineCount(view, 'inventory.released')).toBe(1);
    expect(view.compensation.releaseReason).toBe('ORDER_CANCELLED');
    const authorized = timelineCount(view, 'payment.authorized');
    expect(authorized).toBeLessThanOrEqual(1);
    if (authorized === 1) {
      expect(payment).toMatchObject({
        status: 'AUTHORIZED',
        refund: { status: 'REFUNDED', reason: 'ORDER_CANCELLED' },
      });
      expect(timelineCount(view, 'payment.refunded')).toBe(1);
    } else {
      expect(payment).toMatchObject({ status: 'FAILED', failureReason: 'ORDER_CANCELLED' });
      expect(timelineCount(view, 'payment.refunded')).toBe(0);
    }
    expect((await paymentRowsPerOrder([created.orderId])).get(created.orderId)?.count).toBe(1);
    expect(await waitForStock(item.itemId, (stock) => stock.reserved === 0)).toEqual(before);
  });
});
