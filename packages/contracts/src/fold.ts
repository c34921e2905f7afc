import type { AnyEvent, EventEnvelope } from './envelope';
import {
  type CancellationSection,
  type CompensationSection,
  type DeliverySection,
  deriveStatus,
  emptyFacts,
  type InventorySection,
  type OrderFacts,
  type OrderSection,
  type OrderView,
  orderTotalAmount,
  type PaymentSection,
} from './order-facts';

/**
 * The order status fold (docs/design.md §3, §4).
 *
 * An order's events arrive on four topics in no fixed order and more than once, so the fold is a merge,
 * not a state machine: `applyEvent` is commutative and idempotent. Each section below is filled only
 * by its own event types, and where several events compete for one field a fixed rule picks the
 * winner — status precedence first, then the earliest (or, for the ETA, the latest) occurredAt, then
 * the smaller eventId — never arrival order. The status itself is not stored: `deriveStatus` computes
 * it from the sections, so a read model can keep one column group per step, upsert each event into
 * its own columns, and derive the status when it reads.
 *
 * All timestamps in the facts are normalised to UTC ISO-8601 with milliseconds
 * (`Date.prototype.toISOString`), so they compare as strings.
 */

export class FoldError extends Error {
  override readonly name = 'FoldError';
}

/** Who wins when two events compete: compared by time, then eventId, so the order is total. */
interface Stamp {
  at: string;
  eventId: string;
}

function isEarlier(a: Stamp, b: Stamp): boolean {
  return a.at < b.at || (a.at === b.at && a.eventId < b.eventId);
}

function instant(isoDateTime: string): string {
  return new Date(isoDateTime).toISOString();
}

/** Drops keys whose value is undefined, so equal facts are also structurally equal. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function minString(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a;
}

function maxString(a: string | undefined, b: string): string {
  return a === undefined || b > a ? b : a;
}

/** Merges one event into the facts. Commutative and idempotent; returns a new object. */
export function applyEvent(facts: OrderFacts, event: AnyEvent): OrderFacts {
  if (event.orderId !== facts.orderId) {
    throw new FoldError(`event ${event.eventId} belongs to order '${event.orderId}', not '${facts.orderId}'`);
  }
  const stamp: Stamp = { at: instant(event.occurredAt), eventId: event.eventId };
  const next: OrderFacts = { ...facts, updatedAt: maxString(facts.updatedAt, stamp.at) };

  switch (event.eventType) {
    case 'order.created':
      next.order = mergeOrder(facts.order, event, stamp);
      break;
    case 'inventory.reserved':
    case 'inventory.rejected':
      next.inventory = mergeInventory(facts.inventory, event, stamp);
      break;
    case 'payment.authorized':
    case 'payment.failed':
      next.payment = mergePayment(facts.payment, event, stamp);
      break;
    case 'delivery.assigned':
    case 'eta.updated':
    case 'delivery.failed':
    case 'delivery.completed':
      next.delivery = mergeDelivery(facts.delivery, event, stamp);
      break;
    case 'order.cancelled':
      next.cancellation = mergeCancellation(facts.cancellation, event, stamp);
      break;
    case 'inventory.released':
    case 'payment.refunded':
      next.compensation = mergeCompensation(facts.compensation, event, stamp);
      break;
    default:
      return assertNever(event);
  }

  // order.created fixes createdAt; before it is known, the earliest event stands in for it.
  next.createdAt = next.order ? next.order.createdAt : minString(facts.createdAt, stamp.at);
  return next;
}

function assertNever(value: never): never {
  throw new FoldError(`unhandled event: ${JSON.stringify(value)}`);
}

function mergeOrder(
  current: OrderSection | undefined,
  event: EventEnvelope<'order.created'>,
  stamp: Stamp,
): OrderSection {
  if (current && !isEarlier(stamp, { at: current.createdAt, eventId: current.eventId })) return current;
  const { customerId, totalAmount, currency, items, deliveryAddress } = event.payload;
  return {
    customerId,
    totalAmount,
    currency,
    items,
    deliveryAddress,
    createdAt: stamp.at,
    eventId: stamp.eventId,
  };
}

function mergeInventory(
  current: InventorySection | undefined,
  event: EventEnvelope<'inventory.reserved'> | EventEnvelope<'inventory.rejected'>,
  stamp: Stamp,
): InventorySection {
  const { amount, currency } = event.payload;
  if (event.eventType === 'inventory.reserved') {
    if (current?.reservedAt && current.reservedEventId) {
      if (!isEarlier(stamp, { at: current.reservedAt, eventId: current.reservedEventId })) return current;
    }
    const rejected = current?.status === 'REJECTED';
    return compact<InventorySection>({
      ...current,
      status: rejected ? 'REJECTED' : 'RESERVED',
      amount: rejected && current ? current.amount : amount,
      currency: rejected && current ? current.currency : currency,
      lines: event.payload.lines,
      reasons: current?.reasons ?? [],
      reservedAt: stamp.at,
      reservedEventId: stamp.eventId,
    });
  }
  if (current?.rejectedAt && current.rejectedEventId) {
    if (!isEarlier(stamp, { at: current.rejectedAt, eventId: current.rejectedEventId })) return current;
  }
  return compact<InventorySection>({
    ...current,
    status: 'REJECTED',
    amount,
    currency,
    lines: current?.lines ?? [],
    reasons: event.payload.reasons,
    rejectedAt: stamp.at,
    rejectedEventId: stamp.eventId,
  });
}

const PAYMENT_RANK: Record<PaymentSection['status'], number> = { AUTHORIZED: 1, FAILED: 2 };

function mergePayment(
  current: PaymentSection | undefined,
  event: EventEnvelope<'payment.authorized'> | EventEnvelope<'payment.failed'>,
  stamp: Stamp,
): PaymentSection {
  const candidate = compact<PaymentSection>({
    status: event.payload.status,
    paymentId: event.payload.paymentId,
    amount: event.payload.amount,
    currency: event.payload.currency,
    failureReason: event.eventType === 'payment.failed' ? event.payload.failureReason : undefined,
    at: stamp.at,
    eventId: stamp.eventId,
  });
  if (!current) return candidate;
  const rankDiff = PAYMENT_RANK[candidate.status] - PAYMENT_RANK[current.status];
  if (rankDiff > 0) return candidate;
  if (rankDiff === 0 && isEarlier(stamp, { at: current.at, eventId: current.eventId })) return candidate;
  return current;
}

function deliveryStatus(section: Pick<DeliverySection, 'completedEventId' | 'failedEventId'>) {
  if (section.completedEventId) return 'COMPLETED';
  if (section.failedEventId) return 'FAILED';
  return 'ASSIGNED';
}

function mergeDelivery(
  current: DeliverySection | undefined,
  event:
    | EventEnvelope<'delivery.assigned'>
    | EventEnvelope<'eta.updated'>
    | EventEnvelope<'delivery.failed'>
    | EventEnvelope<'delivery.completed'>,
  stamp: Stamp,
): DeliverySection {
  const { deliveryId, driverName, driverId } = event.payload;
  const identity = { deliveryId, driverName, driverId };
  // Every delivery event names the delivery, so a first event of any type can open the section.
  const base: DeliverySection = current ?? { status: 'ASSIGNED', deliveryId };
  const next: DeliverySection = { ...base };

  switch (event.eventType) {
    case 'delivery.assigned':
    case 'eta.updated': {
      if (event.eventType === 'delivery.assigned') next.assignedAt = minString(base.assignedAt, stamp.at);
      const etaIsLater =
        !base.etaAt || !base.etaEventId || isEarlier({ at: base.etaAt, eventId: base.etaEventId }, stamp);
      if (etaIsLater) {
        Object.assign(next, identity, {
          estimatedDeliveryTime: instant(event.payload.estimatedDeliveryTime),
          etaAt: stamp.at,
          etaEventId: stamp.eventId,
        });
      }
      break;
    }
    case 'delivery.failed': {
      const wins =
        !base.failedAt ||
        !base.failedEventId ||
        isEarlier(stamp, { at: base.failedAt, eventId: base.failedEventId });
      if (wins) {
        Object.assign(next, {
          failedAt: stamp.at,
          failureReason: event.payload.reason,
          failedEventId: stamp.eventId,
        });
        if (!base.etaEventId && !base.completedEventId) Object.assign(next, identity);
      }
      break;
    }
    case 'delivery.completed': {
      const completed: Stamp = { at: instant(event.payload.completedAt), eventId: stamp.eventId };
      const wins =
        !base.completedAt ||
        !base.completedEventId ||
        isEarlier(completed, { at: base.completedAt, eventId: base.completedEventId });
      if (wins) {
        Object.assign(next, { completedAt: completed.at, completedEventId: completed.eventId });
        if (!base.etaEventId) Object.assign(next, identity);
      }
      break;
    }
  }
  next.status = deliveryStatus(next);
  return compact(next);
}

function mergeCancellation(
  current: CancellationSection | undefined,
  event: EventEnvelope<'order.cancelled'>,
  stamp: Stamp,
): CancellationSection {
  if (current && !isEarlier(stamp, { at: current.cancelledAt, eventId: current.eventId })) return current;
  return compact<CancellationSection>({
    cancelledAt: stamp.at,
    reason: event.payload.reason,
    cancelledBy: event.payload.cancelledBy,
    eventId: stamp.eventId,
  });
}

function mergeCompensation(
  current: CompensationSection,
  event: EventEnvelope<'inventory.released'> | EventEnvelope<'payment.refunded'>,
  stamp: Stamp,
): CompensationSection {
  if (event.eventType === 'inventory.released') {
    if (current.releasedAt && current.releaseEventId) {
      if (!isEarlier(stamp, { at: current.releasedAt, eventId: current.releaseEventId })) return current;
    }
    return {
      ...current,
      inventoryReleased: true,
      releasedAt: stamp.at,
      releaseReason: event.payload.reason,
      releaseEventId: stamp.eventId,
    };
  }
  if (current.refundedAt && current.refundEventId) {
    if (!isEarlier(stamp, { at: current.refundedAt, eventId: current.refundEventId })) return current;
  }
  return {
    ...current,
    paymentRefunded: true,
    refundedAt: stamp.at,
    refundId: event.payload.refundId,
    refundReason: event.payload.reason,
    refundEventId: stamp.eventId,
  };
}

export function toOrderView(facts: OrderFacts): OrderView {
  return compact<OrderView>({ ...facts, status: deriveStatus(facts), totalAmount: orderTotalAmount(facts) });
}

/**
 * Folds one order's events, in any order and with duplicates (deduplicated by eventId), into its view.
 * Throws FoldError for an empty list or events of more than one order.
 */
export function foldOrder(events: readonly AnyEvent[]): OrderView {
  const first = events[0];
  if (!first) throw new FoldError('cannot fold an order from no events');
  const seen = new Set<string>();
  let facts = emptyFacts(first.orderId);
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    facts = applyEvent(facts, event);
  }
  return toOrderView(facts);
}
