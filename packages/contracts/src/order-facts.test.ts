import { foldOrder } from './fold';
import { ORDER_ID, pathEvents } from './fold.fixtures';
import { deriveStatus, emptyFacts, isTerminal, ORDER_STATUSES, type OrderFacts } from './order-facts';
import type { SagaPath } from './testing';

describe('deriveStatus', () => {
  const view = (path: SagaPath) => foldOrder(pathEvents(path));

  it('CREATED when nothing is known', () => {
    expect(deriveStatus(emptyFacts(ORDER_ID))).toBe('CREATED');
  });

  it('follows the documented precedence', () => {
    const happy = view('happy');
    const deliveryFailed = view('deliveryFailed');
    const cancelled = view('cancelledAfterPayment');
    const paymentFailed = view('paymentFailed');
    const rejected = view('inventoryRejected');
    const combine = (...parts: Partial<OrderFacts>[]): OrderFacts =>
      Object.assign(emptyFacts(ORDER_ID), ...parts);

    // Each terminal fact beats the ones below it.
    expect(
      deriveStatus(combine({ delivery: happy.delivery }, { cancellation: cancelled.cancellation })),
    ).toBe('DELIVERED');
    expect(
      deriveStatus(combine({ delivery: deliveryFailed.delivery }, { cancellation: cancelled.cancellation })),
    ).toBe('DELIVERY_FAILED');
    expect(
      deriveStatus(combine({ cancellation: cancelled.cancellation, payment: paymentFailed.payment })),
    ).toBe('CANCELLED');
    expect(deriveStatus(combine({ payment: paymentFailed.payment, inventory: rejected.inventory }))).toBe(
      'PAYMENT_FAILED',
    );
    // Any terminal fact beats any progress fact.
    const assignedDelivery = { ...happy.delivery!, status: 'ASSIGNED' as const };
    expect(deriveStatus(combine({ inventory: rejected.inventory, delivery: assignedDelivery }))).toBe(
      'INVENTORY_REJECTED',
    );
    // Progress: the furthest step wins.
    expect(deriveStatus(combine({ delivery: assignedDelivery, payment: happy.payment }))).toBe(
      'DELIVERY_ASSIGNED',
    );
    expect(deriveStatus(combine({ payment: happy.payment, inventory: happy.inventory }))).toBe(
      'PAYMENT_AUTHORIZED',
    );
    expect(deriveStatus(combine({ inventory: happy.inventory }))).toBe('INVENTORY_RESERVED');
    expect(deriveStatus(combine({ order: happy.order }))).toBe('CREATED');
  });
});

describe('isTerminal', () => {
  it.each([...ORDER_STATUSES])('%s', (status) => {
    const terminal = ['DELIVERED', 'DELIVERY_FAILED', 'CANCELLED', 'PAYMENT_FAILED', 'INVENTORY_REJECTED'];
    expect(isTerminal(status)).toBe(terminal.includes(status));
  });
});
