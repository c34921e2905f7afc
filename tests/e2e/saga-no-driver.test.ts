import { eventually, requireRunningServices } from '@dispatch/testkit';
import { createItem, getItem, uniqueId } from './support/api';
import {
  cancelOrder,
  getDelivery,
  getPayment,
  placeOrderPaidWith,
  settleOrders,
  takeAllDriversOffDuty,
  timelineCount,
  waitForStock,
  waitForView,
} from './support/saga';

/**
 * With every driver off duty a paid order waits at PAYMENT_AUTHORIZED: it can still be cancelled
 * (refund + release), and if nobody cancels, delivery gives up after DRIVER_WAIT_MS with
 * delivery.failed NO_DRIVER_AVAILABLE, which payment answers with a refund and inventory with a release.
 */
describe('no driver on duty', () => {
  const placed: { orderId: string; customerId: string }[] = [];
  let restoreDrivers: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    await requireRunningServices([
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
      'query-api',
    ]);
    restoreDrivers = await takeAllDriversOffDuty();
  });

  afterAll(async () => {
    await restoreDrivers?.();
    await settleOrders(placed);
  });

  /** Places a tok_visa order and waits until it is paid and its delivery waits for a driver. */
  async function paidOrderWaitingForDriver(itemId: string, unitPrice: string) {
    const customerId = uniqueId('e2e-no-driver');
    const created = await placeOrderPaidWith(customerId, [{ itemId, quantity: 2, unitPrice }], 'tok_visa');
    placed.push({ orderId: created.orderId, customerId });
    await waitForView(created.orderId, (view) => {
      if (view.status !== 'PAYMENT_AUTHORIZED') throw new Error(`order is ${view.status}`);
    });
    const delivery = await eventually(
      async () => {
        const found = await getDelivery(created.orderId);
        if (found?.status !== 'PENDING') throw new Error(`delivery is ${found?.status ?? 'not there yet'}`);
        return found;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    return { created, customerId, delivery };
  }

  it('a cancel while it waits at PAYMENT_AUTHORIZED: 202 → CANCELLED, refunded once, released once', async () => {
    const item = await createItem({ available: 5, unitPrice: '6.00' });
    const before = await getItem(item.itemId);
    const { created, customerId } = await paidOrderWaitingForDriver(item.itemId, '6.00');

    const cancel = await cancelOrder(created.orderId, customerId);
    expect(cancel.status).toBe(202);

    const view = await waitForView(created.orderId, (v) => {
      if (v.status !== 'CANCELLED' || !v.compensation.inventoryReleased || !v.compensation.paymentRefunded) {
        throw new Error(
          `order is ${v.status}, released=${v.compensation.inventoryReleased}, refunded=${v.compensation.paymentRefunded}`,
        );
      }
    });
    expect(view.compensation).toMatchObject({
      releaseReason: 'ORDER_CANCELLED',
      refundReason: 'ORDER_CANCELLED',
    });
    expect(timelineCount(view, 'payment.authorized')).toBe(1);
    expect(timelineCount(view, 'payment.refunded')).toBe(1);
    expect(timelineCount(view, 'inventory.released')).toBe(1);
    expect(await getPayment(created.orderId)).toMatchObject({
      status: 'AUTHORIZED',
      refund: { status: 'REFUNDED', reason: 'ORDER_CANCELLED' },
    });
    expect(await waitForStock(item.itemId, (stock) => stock.reserved === 0)).toEqual(before);
    await eventually(async () => {
      const delivery = await getDelivery(created.orderId);
      if (delivery?.status !== 'CANCELLED') throw new Error(`delivery is ${delivery?.status}`);
    });
  });

  it('nobody cancels: DELIVERY_FAILED (NO_DRIVER_AVAILABLE) after DRIVER_WAIT_MS, payment refunded, stock released', async () => {
    const item = await createItem({ available: 6, unitPrice: '4.50' });
    const before = await getItem(item.itemId);
    const { created, delivery } = await paidOrderWaitingForDriver(item.itemId, '4.50');

    // The delivery carries its deadline (created + DRIVER_WAIT_MS): wait until then, plus the
    // scheduler's tick and the compensations.
    const deadline = Date.parse(delivery.assignDeadline ?? '');
    expect(Number.isNaN(deadline)).toBe(false);
    const waitMs = Math.max(0, deadline - Date.now()) + 45_000;
    console.info(
      `delivery of ${created.orderId} waits for a driver until ${delivery.assignDeadline} (DRIVER_WAIT_MS ≈ ${
        deadline - Date.parse(delivery.createdAt)
      } ms)`,
    );

    const view = await waitForView(
      created.orderId,
      (v) => {
        if (
          v.status !== 'DELIVERY_FAILED' ||
          !v.compensation.inventoryReleased ||
          !v.compensation.paymentRefunded
        ) {
          const why =
            v.status === 'DELIVERY_ASSIGNED' || v.status === 'DELIVERED'
              ? ` (driver ${v.delivery?.driverId} came on duty meanwhile: is another test changing drivers?)`
              : '';
          throw new Error(
            `order is ${v.status}${why}, released=${v.compensation.inventoryReleased}, refunded=${v.compensation.paymentRefunded}`,
          );
        }
      },
      waitMs,
    );
    expect(view.delivery).toMatchObject({ status: 'FAILED', failureReason: 'NO_DRIVER_AVAILABLE' });
    expect(view.compensation).toMatchObject({
      releaseReason: 'DELIVERY_FAILED',
      refundReason: 'DELIVERY_FAILED',
    });
    expect(timelineCount(view, 'delivery.failed')).toBe(1);
    expect(timelineCount(view, 'payment.refunded')).toBe(1);
    expect(timelineCount(view, 'inventory.released')).toBe(1);
    expect(await getPayment(created.orderId)).toMatchObject({
      status: 'AUTHORIZED',
      refund: { status: 'REFUNDED', reason: 'DELIVERY_FAILED' },
    });
    expect(await getDelivery(created.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'NO_DRIVER_AVAILABLE',
    });
    expect(await waitForStock(item.itemId, (stock) => stock.reserved === 0)).toEqual(before);
  });
});
