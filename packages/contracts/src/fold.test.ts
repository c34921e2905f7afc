import { type AnyEvent, createEvent } from './envelope';
import type { EventType, PayloadOf } from './events';
import { applyEvent, FoldError, foldOrder } from './fold';
import {
  deriveStatus,
  emptyFacts,
  isTerminal,
  ORDER_STATUSES,
  type OrderFacts,
  type OrderStatus,
} from './order-facts';
import { SAGA_FINAL_STATUS, SAGA_PATHS, type SagaPath, sampleEvents } from './testing';

const ORDER_ID = 'order-7';
const START = '2024-02-07T15:00:00.000Z';

function pathEvents(path: SagaPath): AnyEvent[] {
  return sampleEvents(path, { orderId: ORDER_ID, customerId: 'customer-7', startAt: START });
}

function find<T extends EventType>(events: AnyEvent[], eventType: T): Extract<AnyEvent, { eventType: T }> {
  const event = events.find((e): e is Extract<AnyEvent, { eventType: T }> => e.eventType === eventType);
  if (!event) throw new Error(`no ${eventType}`);
  return event;
}

/** A further event of the order, e.g. to create conflicts the saga itself would not produce. */
function extra<T extends EventType>(
  eventType: T,
  payload: PayloadOf<T>,
  occurredAt: string,
  eventId?: string,
): AnyEvent {
  return createEvent({
    eventType,
    orderId: ORDER_ID,
    correlationId: ORDER_ID,
    causationId: eventType === 'order.created' ? undefined : '6f1c2b1e-8c55-4a43-9c57-0f0f6f3f2a10',
    producer: 'test',
    payload,
    occurredAt,
    ...(eventId ? { eventId } : {}),
  }) as AnyEvent;
}

const at = (seconds: number) => new Date(Date.parse(START) + seconds * 1000).toISOString();

/** mulberry32: a small seeded PRNG, so a failing shuffle can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
      const random = mulberry32(seed);
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

describe('fold errors and purity', () => {
  it('refuses to fold nothing', () => {
    expect(() => foldOrder([])).toThrow(FoldError);
  });

  it('refuses events of another order', () => {
    const mine = pathEvents('happy');
    const theirs = sampleEvents('happy', { orderId: 'order-other' });
    expect(() => foldOrder([...mine, ...theirs])).toThrow(FoldError);
    expect(() => applyEvent(emptyFacts(ORDER_ID), theirs[0]!)).toThrow(/order-other/);
  });

  it('does not modify the facts it is given', () => {
    const events = pathEvents('deliveryFailed');
    let facts = emptyFacts(ORDER_ID);
    for (const event of events) {
      const before = JSON.stringify(facts);
      const next = applyEvent(facts, event);
      expect(JSON.stringify(facts)).toBe(before);
      facts = next;
    }
  });
});
