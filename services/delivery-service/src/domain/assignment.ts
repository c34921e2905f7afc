import type { DeliveryStatus } from './delivery';
import { NO_DRIVER_AVAILABLE } from './delivery';

/** A driver who is AVAILABLE, has no active delivery, and whose row this transaction has locked. */
export interface CandidateDriver {
  driverId: string;
  name: string;
}

export type AssignmentDecision =
  | { kind: 'assign'; driver: CandidateDriver }
  | { kind: 'wait'; retryAt: Date }
  | { kind: 'fail'; reason: typeof NO_DRIVER_AVAILABLE };

/**
 * What to do with a PENDING delivery at `now`. A free driver always gets it, even at or past the
 * deadline (a late assignment beats a refund). Without one it waits for the next attempt, which is
 * never later than the deadline, and fails with NO_DRIVER_AVAILABLE once the deadline has come.
 */
export function decideAssignment(input: {
  now: Date;
  deadline: Date;
  driver: CandidateDriver | undefined;
  retryIntervalMs: number;
}): AssignmentDecision {
  if (input.driver) return { kind: 'assign', driver: input.driver };
  const now = input.now.getTime();
  const deadline = input.deadline.getTime();
  if (now >= deadline) return { kind: 'fail', reason: NO_DRIVER_AVAILABLE };
  return { kind: 'wait', retryAt: new Date(Math.min(now + input.retryIntervalMs, deadline)) };
}

/** What this service knows about an order from raw.order-events. */
export interface OrderFacts {
  /** From order.created; absent until it has been seen. */
  destination?: { lat: number; lng: number };
  cancelled: boolean;
}

export type PaymentAuthorizedDecision =
  /** The order already has a delivery (another payment.authorized for it): nothing to do. */
  | { kind: 'already-handled'; status: DeliveryStatus }
  /** Cancelled before payment: record a CANCELLED delivery so nothing ever assigns a driver to it. */
  | { kind: 'record-cancelled' }
  /** order.created not seen yet: keep it as AWAITING_ORDER; order.created resumes it. */
  | { kind: 'await-order' }
  /** Start looking for a driver now, until `deadline`. */
  | { kind: 'seek-driver'; deadline: Date };

/** The decision on payment.authorized, from the order's facts and any existing delivery. */
export function decideOnPaymentAuthorized(input: {
  now: Date;
  order: OrderFacts;
  existing: DeliveryStatus | undefined;
  driverWaitMs: number;
}): PaymentAuthorizedDecision {
  if (input.existing) return { kind: 'already-handled', status: input.existing };
  if (input.order.cancelled) return { kind: 'record-cancelled' };
  if (!input.order.destination) return { kind: 'await-order' };
  return { kind: 'seek-driver', deadline: new Date(input.now.getTime() + input.driverWaitMs) };
}

export type CancellationDecision =
  /** No delivery yet: remember the cancel so a later payment.authorized assigns nobody. */
  | { kind: 'record' }
  /** Paid but no driver yet: the delivery becomes CANCELLED (payment and inventory compensate on their own). */
  | { kind: 'cancel-delivery' }
  /**
   * A driver was already assigned: order-service accepted the cancel just before it learned of the
   * assignment. The accepted cancel wins (payment refunds, inventory releases on the same event), so
   * the delivery is called off and the driver freed, or the order would be delivered and refunded.
   */
  | { kind: 'call-off-delivery'; status: DeliveryStatus }
  /** Already delivered: nothing can be called off; logged and counted. */
  | { kind: 'ignore-late'; status: DeliveryStatus }
  /** Already FAILED or CANCELLED: nothing left to stop. */
  | { kind: 'already-final'; status: DeliveryStatus };

/** The decision on order.cancelled, from the order's delivery (if any). */
export function decideOnOrderCancelled(existing: DeliveryStatus | undefined): CancellationDecision {
  if (existing === undefined) return { kind: 'record' };
  switch (existing) {
    case 'AWAITING_ORDER':
    case 'PENDING':
      return { kind: 'cancel-delivery' };
    case 'ASSIGNED':
    case 'EN_ROUTE':
      return { kind: 'call-off-delivery', status: existing };
    case 'COMPLETED':
      return { kind: 'ignore-late', status: existing };
    case 'FAILED':
    case 'CANCELLED':
      return { kind: 'already-final', status: existing };
  }
}
