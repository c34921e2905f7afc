import type { AnyEvent } from './envelope';
import { foldOrder } from './fold';
import { at, extra, find, ORDER_ID, pathEvents, START } from './fold.fixtures';
import { isTerminal, type OrderStatus } from './order-facts';
import { SAGA_FINAL_STATUS, SAGA_PATHS } from './testing';

function statusesAlong(events: AnyEvent[]): OrderStatus[] {
  return events.map((_, i) => foldOrder(events.slice(0, i + 1)).status);
}
describe('foldOrder: saga paths', () => {
  it.each([...SAGA_PATHS])('%s ends in its final status', (path) => {
    expect(foldOrder(pathEvents(path)).status).toBe(SAGA_FINAL_STATUS[path]);
  });

  it('happy path: progresses step by step and fills every section', () => {
    const events = pathEvents('happy');
    expect(statusesAlong(events)).toEqual([
      'CREATED',
      'INVENTORY_RESERVED',
      'PAYMENT_AUTHORIZED',
      'DELIVERY_ASSIGNED',
      'DELIVERY_ASSIGNED',
      'DELIVERY_ASSIGNED',
      'DELIVERED',
    ]);
    const view = foldOrder(events);
    const created = find(events, 'order.created');
    const enRoute = events.filter((e) => e.eventType === 'eta.updated')[1]!;
    const completed = find(events, 'delivery.completed');
    expect(view).toEqual({
      orderId: ORDER_ID,
      status: 'DELIVERED',
      totalAmount: '64.99',
      createdAt: START,
      updatedAt: at(6),
      order: {
        customerId: 'customer-7',
        totalAmount: '64.99',
        currency: 'EUR',
        items: created.payload.items,
        deliveryAddress: created.payload.deliveryAddress,
        createdAt: START,
        eventId: created.eventId,
      },
      inventory: {
        status: 'RESERVED',
        amount: '64.99',
        currency: 'EUR',
        lines: find(events, 'inventory.reserved').payload.lines,
        reasons: [],
        reservedAt: at(1),
        reservedEventId: find(events, 'inventory.reserved').eventId,
      },
      payment: {
        status: 'AUTHORIZED',
        paymentId: `pay-${ORDER_ID}`,
        amount: '64.99',
        currency: 'EUR',
        at: at(2),
        eventId: find(events, 'payment.authorized').eventId,
      },
      delivery: {
        status: 'COMPLETED',
        deliveryId: `delivery-${ORDER_ID}`,
        driverName: 'Ada Rider',
        driverId: 'driver-7',
        estimatedDeliveryTime: new Date(Date.parse(START) + 40 * 60_000).toISOString(),
        etaAt: at(5),
        etaEventId: enRoute.eventId,
        assignedAt: at(3),
        completedAt: at(6),
        completedEventId: completed.eventId,
      },
      compensation: { inventoryReleased: false, paymentRefunded: false },
    });
  });

  it('never keeps the card token', () => {
    const view = foldOrder(pathEvents('happy'));
    expect(JSON.stringify(view)).not.toContain('tok_');
    expect(view.order).not.toHaveProperty('paymentMethod');
  });

  it('inventory rejected: keeps the per-line reasons', () => {
    const events = pathEvents('inventoryRejected');
    const view = foldOrder(events);
    expect(view.status).toBe('INVENTORY_REJECTED');
    expect(view.inventory).toEqual({
      status: 'REJECTED',
      amount: '64.99',
      currency: 'EUR',
      lines: [],
      reasons: [
        { itemId: 'sku-milk-frother', reason: 'OUT_OF_STOCK', requestedQuantity: 1, availableQuantity: 0 },
      ],
      rejectedAt: at(1),
      rejectedEventId: find(events, 'inventory.rejected').eventId,
    });
    expect(isTerminal(view.status)).toBe(true);
  });

  it('payment failed: records the reason and the inventory release', () => {
    const events = pathEvents('paymentFailed');
    const view = foldOrder(events);
    expect(view.payment).toMatchObject({ status: 'FAILED', failureReason: 'card_declined', at: at(2) });
    expect(view.compensation).toEqual({
      inventoryReleased: true,
      releasedAt: at(3),
      releaseReason: 'PAYMENT_FAILED',
      releaseEventId: find(events, 'inventory.released').eventId,
      paymentRefunded: false,
    });
    // The release does not change the outcome, whether it has arrived or not.
    expect(foldOrder(events.slice(0, 3)).status).toBe('PAYMENT_FAILED');
  });

  it('delivery failed: records the reason, the refund and the release', () => {
    const events = pathEvents('deliveryFailed');
    const view = foldOrder(events);
    expect(view.delivery).toEqual({
      status: 'FAILED',
      deliveryId: `delivery-${ORDER_ID}`,
      failedAt: at(3),
      failureReason: 'NO_DRIVER_AVAILABLE',
      failedEventId: find(events, 'delivery.failed').eventId,
    });
    expect(view.compensation).toMatchObject({
      inventoryReleased: true,
      releaseReason: 'DELIVERY_FAILED',
      paymentRefunded: true,
      refundId: `refund-${ORDER_ID}`,
      refundReason: 'DELIVERY_FAILED',
      refundedAt: at(4),
    });
  });

  it('cancelled before payment: cancellation and release', () => {
    const view = foldOrder(pathEvents('cancelledBeforePayment'));
    expect(view.status).toBe('CANCELLED');
    expect(view.cancellation).toMatchObject({
      cancelledAt: at(2),
      cancelledBy: 'CUSTOMER',
      reason: 'changed my mind',
    });
    expect(view.payment).toBeUndefined();
    expect(view.compensation).toMatchObject({ inventoryReleased: true, paymentRefunded: false });
  });

  it('keeps an order line without unitPrice as requested, next to the catalogue-priced reservation', () => {
    const events = pathEvents('cancelledAfterPayment');
    const view = foldOrder(events);
    expect(view.order?.items).toEqual([
      { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
      { itemId: 'sku-milk-frother', quantity: 1 },
    ]);
    expect(view.order?.totalAmount).toBe('25.00');
    expect(view.inventory?.lines).toEqual([
      { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
      { itemId: 'sku-milk-frother', quantity: 1, unitPrice: '39.99' },
    ]);
    expect(view.inventory?.amount).toBe('64.99');
    expect(view.payment?.amount).toBe('64.99');
  });

  it('totalAmount: provisional until inventory prices the order, then the reserved (charged) total', () => {
    // cancelledAfterPayment's order has one line without unitPrice: provisional 25.00, priced 64.99.
    const events = pathEvents('cancelledAfterPayment');
    const created = find(events, 'order.created');
    const reserved = find(events, 'inventory.reserved');
    const authorized = find(events, 'payment.authorized');
    expect(foldOrder([created]).totalAmount).toBe('25.00');
    expect(foldOrder([created, reserved]).totalAmount).toBe('64.99');
    // The payment (another topic) may be folded before the reservation: it carries the same total.
    expect(foldOrder([created, authorized]).totalAmount).toBe('64.99');
    expect(foldOrder([reserved]).totalAmount).toBe('64.99');
    expect(foldOrder(events).totalAmount).toBe('64.99');
    expect(foldOrder(events.toReversed()).totalAmount).toBe('64.99');
  });

  it('totalAmount: an order POSTed without any unitPrice shows the catalogue total once reserved', () => {
    const events = pathEvents('happy');
    const created = find(events, 'order.created');
    const reserved = find(events, 'inventory.reserved');
    const unpriced = extra(
      'order.created',
      {
        ...created.payload,
        items: created.payload.items.map(({ itemId, quantity }) => ({ itemId, quantity })),
        totalAmount: '0.00',
      },
      created.occurredAt,
      created.eventId,
    );
    expect(foldOrder([unpriced]).totalAmount).toBe('0.00');
    expect(foldOrder([unpriced, reserved]).totalAmount).toBe(reserved.payload.amount);
    expect(reserved.payload.amount).not.toBe('0.00');
  });

  it('totalAmount: a rejected order keeps the provisional total; no amount known before any event with one', () => {
    const rejected = foldOrder(pathEvents('inventoryRejected'));
    expect(rejected.totalAmount).toBe(rejected.order?.totalAmount);
    const completed = find(pathEvents('happy'), 'delivery.completed');
    expect(foldOrder([completed]).totalAmount).toBeUndefined();
  });

  it('cancelled after payment: cancellation wins over the authorisation, refund and release recorded', () => {
    const events = pathEvents('cancelledAfterPayment');
    expect(statusesAlong(events)).toEqual([
      'CREATED',
      'INVENTORY_RESERVED',
      'PAYMENT_AUTHORIZED',
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
    ]);
    const view = foldOrder(events);
    expect(view.payment?.status).toBe('AUTHORIZED');
    expect(view.compensation).toMatchObject({
      inventoryReleased: true,
      releaseReason: 'ORDER_CANCELLED',
      paymentRefunded: true,
      refundReason: 'ORDER_CANCELLED',
    });
  });
});
