import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent } from './envelope';
import type { EventType, PayloadOf } from './events';
import { totalOfLines } from './money';
import type { OrderStatus } from './order-facts';
import { type PricedLine, type RequestedLine, requestedTotal } from './payloads/common';
import { topicForEventType, topicOwner } from './topics';

/**
 * Realistic, valid event lists for each saga path, for tests in any package. Pure apart from fresh
 * UUIDs (so inbox tables never see a reused eventId) and "now" as the default start time.
 */

export const SAGA_PATHS = [
  'happy',
  'inventoryRejected',
  'paymentFailed',
  'deliveryFailed',
  'cancelledBeforePayment',
  'cancelledAfterPayment',
] as const;

export type SagaPath = (typeof SAGA_PATHS)[number];

/** The status `foldOrder` gives each path's full event list. */
export const SAGA_FINAL_STATUS: Readonly<Record<SagaPath, OrderStatus>> = Object.freeze({
  happy: 'DELIVERED',
  inventoryRejected: 'INVENTORY_REJECTED',
  paymentFailed: 'PAYMENT_FAILED',
  deliveryFailed: 'DELIVERY_FAILED',
  cancelledBeforePayment: 'CANCELLED',
  cancelledAfterPayment: 'CANCELLED',
});

export interface SampleEventsOptions {
  /** Default: `order-<uuid>`. */
  orderId?: string;
  /** Default: `customer-<uuid>`. */
  customerId?: string;
  /** occurredAt of order.created; default now. */
  startAt?: Date | string;
  /** Time between consecutive events (default 1000 ms). */
  stepMs?: number;
  /**
   * order.created leaves one line's unitPrice out (see SampleOrderOptions); inventory's events still
   * carry catalogue prices. Default: true on the cancelledAfterPayment path only, so tests that walk
   * every path also see an unpriced line.
   */
  unpricedLine?: boolean;
}

/** The sample catalogue: the two lines every sample order asks for, at catalogue prices (64.99 EUR). */
const SAMPLE_LINES: readonly PricedLine[] = [
  { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
  { itemId: 'sku-milk-frother', quantity: 1, unitPrice: '39.99' },
];

export interface SampleOrderOptions {
  /**
   * Leave the milk frother's unitPrice out (the customer named no price; inventory prices the line from
   * its catalogue), which makes the provisional totalAmount 25.00. Default false.
   */
  unpricedLine?: boolean;
}

/**
 * A valid order.created payload for two catalogue-like lines: total 64.99 EUR, or with `unpricedLine`
 * the frother line without unitPrice and totalAmount 25.00 (the priced lines only).
 */
export function sampleOrderCreatedPayload(
  orderId: string,
  customerId = 'customer-1',
  options: SampleOrderOptions = {},
): PayloadOf<'order.created'> {
  const items: RequestedLine[] = SAMPLE_LINES.map((line) =>
    options.unpricedLine && line.itemId === 'sku-milk-frother'
      ? { itemId: line.itemId, quantity: line.quantity }
      : { ...line },
  );
  return {
    orderId,
    customerId,
    totalAmount: requestedTotal(items),
    currency: 'EUR',
    items,
    deliveryAddress: { ...SAMPLE_DELIVERY_ADDRESS },
    paymentMethod: { type: 'card', token: 'tok_visa_4242_sample' },
  };
}

/** The events of one order going down `path`, in the order they would be produced. */
export function sampleEvents(path: SagaPath, options: SampleEventsOptions = {}): AnyEvent[] {
  const orderId = options.orderId ?? `order-${randomUUID()}`;
  const customerId = options.customerId ?? `customer-${randomUUID()}`;
  const start = new Date(options.startAt ?? new Date()).getTime();
  const stepMs = options.stepMs ?? 1000;
  const events: AnyEvent[] = [];

  const at = (step: number) => new Date(start + step * stepMs).toISOString();
  const emit = <T extends EventType>(eventType: T, payload: PayloadOf<T>, cause?: AnyEvent): AnyEvent => {
    const event = createEvent({
      eventType,
      orderId,
      correlationId: orderId,
      causationId: cause?.eventId,
      producer: topicOwner(topicForEventType(eventType)),
      payload,
      occurredAt: at(events.length),
    }) as AnyEvent;
    events.push(event);
    return event;
  };

  const unpricedLine = options.unpricedLine ?? path === 'cancelledAfterPayment';
  const order = sampleOrderCreatedPayload(orderId, customerId, { unpricedLine });
  const { currency } = order;
  // Inventory's events carry catalogue prices, whatever the order asked for; payment charges their amount.
  const lines = SAMPLE_LINES.map((line) => ({ ...line }));
  const amount = totalOfLines(lines);
  const created = emit('order.created', order);

  if (path === 'inventoryRejected') {
    emit(
      'inventory.rejected',
      {
        orderId,
        customerId,
        // The order's requested (provisional) total.
        amount: order.totalAmount,
        currency,
        reasons: [
          { itemId: 'sku-milk-frother', reason: 'OUT_OF_STOCK', requestedQuantity: 1, availableQuantity: 0 },
        ],
      },
      created,
    );
    return events;
  }

  const reserved = emit('inventory.reserved', { orderId, customerId, amount, currency, lines }, created);
  const release = (reason: PayloadOf<'inventory.released'>['reason'], cause: AnyEvent) =>
    emit('inventory.released', { orderId, customerId, amount, currency, reason, lines }, cause);
  const paymentId = `pay-${orderId}`;

  if (path === 'cancelledBeforePayment') {
    const cancelled = emit(
      'order.cancelled',
      { orderId, cancelledBy: 'CUSTOMER', reason: 'changed my mind', actorId: customerId },
      created,
    );
    release('ORDER_CANCELLED', cancelled);
    return events;
  }

  if (path === 'paymentFailed') {
    const failed = emit(
      'payment.failed',
      { paymentId, orderId, amount, currency, status: 'FAILED', failureReason: 'card_declined' },
      reserved,
    );
    release('PAYMENT_FAILED', failed);
    return events;
  }

  const authorized = emit(
    'payment.authorized',
    { paymentId, orderId, amount, currency, status: 'AUTHORIZED', gatewayReference: `gw-${paymentId}` },
    reserved,
  );
  const refund = (reason: PayloadOf<'payment.refunded'>['reason'], cause: AnyEvent) =>
    emit(
      'payment.refunded',
      { paymentId, orderId, amount, currency, status: 'REFUNDED', refundId: `refund-${orderId}`, reason },
      cause,
    );
  const deliveryId = `delivery-${orderId}`;

  if (path === 'cancelledAfterPayment') {
    const cancelled = emit('order.cancelled', { orderId, cancelledBy: 'ADMIN', actorId: 'admin-1' }, created);
    refund('ORDER_CANCELLED', cancelled);
    release('ORDER_CANCELLED', cancelled);
    return events;
  }

  if (path === 'deliveryFailed') {
    const failed = emit(
      'delivery.failed',
      { orderId, deliveryId, status: 'FAILED', reason: 'NO_DRIVER_AVAILABLE' },
      authorized,
    );
    refund('DELIVERY_FAILED', failed);
    release('DELIVERY_FAILED', failed);
    return events;
  }

  const driver = { driverName: 'Ada Rider', driverId: 'driver-7' };
  const eta = (minutes: number) => new Date(start + minutes * 60_000).toISOString();
  const assigned = emit(
    'delivery.assigned',
    { orderId, deliveryId, ...driver, status: 'ASSIGNED', estimatedDeliveryTime: eta(45) },
    authorized,
  );
  const firstEta = emit(
    'eta.updated',
    { orderId, deliveryId, ...driver, status: 'ASSIGNED', estimatedDeliveryTime: eta(45) },
    assigned,
  );
  const enRoute = emit(
    'eta.updated',
    { orderId, deliveryId, ...driver, status: 'EN_ROUTE', estimatedDeliveryTime: eta(40) },
    firstEta,
  );
  emit(
    'delivery.completed',
    { orderId, deliveryId, ...driver, status: 'COMPLETED', completedAt: at(events.length) },
    enRoute,
  );
  return events;
}

/** The address of the sample orders (and of the services' test orders). */
export const SAMPLE_DELIVERY_ADDRESS = {
  line1: '1 Dispatch Street',
  city: 'London',
  postcode: 'EC1A 1BB',
  lat: 51.5202,
  lng: -0.0977,
};

/** mulberry32: a small seeded PRNG, so a failing shuffle can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The items plus a random half of them again, in a random order: a log that redelivers and reorders. */
export function shuffledWithDuplicates<T>(items: readonly T[], random: () => number): T[] {
  const list = [...items, ...items.filter(() => random() < 0.5)];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}
