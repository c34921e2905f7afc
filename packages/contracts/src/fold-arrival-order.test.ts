import type { AnyEvent } from './envelope';
import { applyEvent, foldOrder } from './fold';
import { at, extra, find, ORDER_ID, pathEvents, START } from './fold.fixtures';
import { emptyFacts } from './order-facts';
import { prng, SAGA_PATHS } from './testing';

/** The events in random order, some of them several times. */
function shuffledWithDuplicates<T>(items: readonly T[], random: () => number): T[] {
  const copies = items.flatMap((item) => {
    const times = 1 + Math.floor(random() * 3) * (random() < 0.4 ? 1 : 0);
    return Array.from({ length: times }, () => item);
  });
  for (let i = copies.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copies[i], copies[j]] = [copies[j]!, copies[i]!];
  }
  return copies;
}
describe('foldOrder: order independence', () => {
  it('a late order.created still sets createdAt, which meanwhile is the earliest event', () => {
    const [created, reserved, authorized] = pathEvents('happy');
    const withoutCreated = foldOrder([authorized!, reserved!]);
    expect(withoutCreated.createdAt).toBe(at(1));
    expect(withoutCreated.status).toBe('PAYMENT_AUTHORIZED');
    expect(withoutCreated.order).toBeUndefined();
    const view = foldOrder([authorized!, reserved!, created!]);
    expect(view.createdAt).toBe(START);
    expect(view.updatedAt).toBe(at(2));
  });

  it('delivery.completed wins over delivery.assigned whatever the arrival order', () => {
    const events = pathEvents('happy');
    const assigned = find(events, 'delivery.assigned');
    const completed = find(events, 'delivery.completed');
    expect(foldOrder([completed, assigned]).status).toBe('DELIVERED');
    expect(foldOrder([assigned, completed]).status).toBe('DELIVERED');
  });

  it('the ETA comes from the latest occurredAt, not the latest arrival', () => {
    const events = pathEvents('happy');
    const assigned = find(events, 'delivery.assigned');
    const etas = events.filter((e) => e.eventType === 'eta.updated');
    const view = foldOrder([etas[1]!, etas[0]!, assigned]);
    expect(view.delivery?.etaEventId).toBe(etas[1]!.eventId);
    expect(view.delivery?.estimatedDeliveryTime).toBe(
      new Date(Date.parse(START) + 40 * 60_000).toISOString(),
    );
  });

  it('ETA ties on occurredAt are broken by the larger eventId', () => {
    const delivery = { orderId: ORDER_ID, deliveryId: 'd-1', driverName: 'Ada' };
    const low = extra(
      'eta.updated',
      { ...delivery, status: 'EN_ROUTE', estimatedDeliveryTime: at(600) },
      at(10),
      '00000000-0000-4000-8000-000000000001',
    );
    const high = extra(
      'eta.updated',
      { ...delivery, status: 'EN_ROUTE', estimatedDeliveryTime: at(900) },
      at(10),
      'ffffffff-ffff-4fff-bfff-ffffffffffff',
    );
    expect(foldOrder([low, high]).delivery?.estimatedDeliveryTime).toBe(at(900));
    expect(foldOrder([high, low]).delivery?.estimatedDeliveryTime).toBe(at(900));
  });

  it('normalises timestamps with offsets to UTC', () => {
    const created = find(pathEvents('happy'), 'order.created');
    const shifted = { ...created, occurredAt: '2024-02-07T17:00:00.000+02:00' };
    expect(foldOrder([shifted]).createdAt).toBe(START);
  });
});

describe('foldOrder: randomized order and duplication', () => {
  /** Events the saga would not produce, competing for the same fields, to test the tie-breaks too. */
  function conflictingEvents(): AnyEvent[] {
    const events = pathEvents('happy');
    const created = find(events, 'order.created');
    const reserved = find(events, 'inventory.reserved');
    const authorized = find(events, 'payment.authorized');
    const assigned = find(events, 'delivery.assigned');
    const d = { orderId: ORDER_ID, deliveryId: 'delivery-b', driverName: 'Bo Rider' };
    return [
      ...events,
      extra('order.created', { ...created.payload, customerId: 'customer-other' }, at(0)),
      extra('inventory.reserved', reserved.payload, at(1)),
      extra(
        'inventory.rejected',
        { ...reserved.payload, amount: '99.00', reasons: [{ itemId: 'x', reason: 'UNKNOWN_ITEM' }] },
        at(1),
      ),
      extra('payment.authorized', { ...authorized.payload, paymentId: 'pay-b' }, at(2)),
      extra(
        'payment.failed',
        { ...authorized.payload, status: 'FAILED', failureReason: 'gateway_unavailable' },
        at(2),
      ),
      extra('delivery.assigned', { ...assigned.payload, ...d }, at(3)),
      extra('eta.updated', { ...d, status: 'EN_ROUTE', estimatedDeliveryTime: at(3000) }, at(4)),
      extra('eta.updated', { ...d, status: 'EN_ROUTE', estimatedDeliveryTime: at(3100) }, at(4)),
      extra('delivery.failed', { ...d, status: 'FAILED', reason: 'ADDRESS_UNREACHABLE' }, at(6)),
      extra('delivery.failed', { ...d, status: 'FAILED', reason: 'DELIVERY_ATTEMPT_FAILED' }, at(6)),
      extra('delivery.completed', { ...d, status: 'COMPLETED', completedAt: at(6) }, at(7)),
      extra(
        'delivery.completed',
        {
          orderId: ORDER_ID,
          deliveryId: 'delivery-c',
          driverName: 'Cy Rider',
          status: 'COMPLETED',
          completedAt: at(5),
        },
        at(8),
      ),
      extra('order.cancelled', { orderId: ORDER_ID, cancelledBy: 'SYSTEM' }, at(4)),
      extra('order.cancelled', { orderId: ORDER_ID, cancelledBy: 'ADMIN' }, at(4)),
      extra(
        'inventory.released',
        { ...reserved.payload, reason: 'DEADLINE_EXCEEDED', lines: [], amount: '0.00' },
        at(8),
      ),
      extra(
        'inventory.released',
        { ...reserved.payload, reason: 'ORDER_CANCELLED', lines: [], amount: '0.00' },
        at(8),
      ),
      extra(
        'payment.refunded',
        { ...authorized.payload, status: 'REFUNDED', refundId: 'r-1', reason: 'ORDER_CANCELLED' },
        at(9),
      ),
      extra(
        'payment.refunded',
        { ...authorized.payload, status: 'REFUNDED', refundId: 'r-2', reason: 'ORDER_CANCELLED' },
        at(9),
      ),
    ];
  }

  /** A completion with no ETA event known: the driver comes from the completion, not the failure. */
  function completionWithoutEta(): AnyEvent[] {
    const events = pathEvents('deliveryFailed');
    const failed = find(events, 'delivery.failed');
    const d = { orderId: ORDER_ID, deliveryId: failed.payload.deliveryId, driverName: 'Cy Rider' };
    return [...events, extra('delivery.completed', { ...d, status: 'COMPLETED', completedAt: at(9) }, at(9))];
  }

  const cases: [string, AnyEvent[]][] = [
    ...SAGA_PATHS.map((path): [string, AnyEvent[]] => [path, pathEvents(path)]),
    ['conflicting events', conflictingEvents()],
    ['completion without ETA', completionWithoutEta()],
  ];

  it.each(cases)('%s: any order, any duplication, same view', (_name, events) => {
    const expected = foldOrder(events);
    const expectedFacts = events.reduce(applyEvent, emptyFacts(ORDER_ID));
    for (let seed = 1; seed <= 300; seed += 1) {
      const random = prng(seed);
      const delivered = shuffledWithDuplicates(events, random);
      const view = foldOrder(delivered);
      // The seed in the comparison says which arrival order to replay when this fails.
      expect({ seed, view }).toStrictEqual({ seed, view: expected });
      // applyEvent alone (no dedup) is idempotent too.
      expect(delivered.reduce(applyEvent, emptyFacts(ORDER_ID))).toStrictEqual(expectedFacts);
    }
  });

  it('conflicting events resolve by precedence, then time, then eventId', () => {
    const view = foldOrder(conflictingEvents());
    expect(view.status).toBe('DELIVERED');
    expect(view.inventory).toMatchObject({ status: 'REJECTED', amount: '99.00', reasons: [{ itemId: 'x' }] });
    expect(view.inventory?.lines).toHaveLength(2);
    expect(view.payment?.status).toBe('FAILED');
    expect(view.order?.customerId).toBeDefined();
    expect(view.delivery?.status).toBe('COMPLETED');
    expect(view.delivery?.failureReason).toBeDefined();
    // Identity follows the latest ETA; the earliest completion (another driver) gives completedAt.
    expect(view.delivery?.driverName).toBe('Ada Rider');
    expect(view.delivery?.completedAt).toBe(at(5));
    expect(view.delivery?.estimatedDeliveryTime).toBe(
      new Date(Date.parse(START) + 40 * 60_000).toISOString(),
    );
  });

  it('without an ETA event the driver comes from the completion', () => {
    const view = foldOrder(completionWithoutEta());
    expect(view.delivery).toMatchObject({
      status: 'COMPLETED',
      driverName: 'Cy Rider',
      failureReason: 'NO_DRIVER_AVAILABLE',
    });
    expect(view.status).toBe('DELIVERED');
  });
});
