import {
  applyEvent,
  type CANCELLED_BY,
  createEvent,
  deriveStatus,
  type EventEnvelope,
  type OrderFacts,
  type OrderStatus,
} from '@dispatch/contracts';
import { PRODUCER } from './order';
import type { OrderProgress } from './progress';

/** The order as the cancel rule sees it (read under its row lock). */
export interface CancellableOrder {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  facts: OrderFacts;
  /** order.created's eventId: the causationId of order.cancelled. */
  createdEventId: string;
  cancellation?: RecordedCancellation;
}

export interface RecordedCancellation {
  cancelledAt: string;
  cancelledBy: CancelledBy;
  eventId: string;
}

/** The contract's CANCELLED_BY: CUSTOMER or ADMIN over HTTP, SYSTEM for the saga deadline sweeper. */
export type CancelledBy = (typeof CANCELLED_BY)[number];

/** The statuses an order can be cancelled in: before a driver is assigned and before any outcome. */
export const CANCELLABLE_STATUSES = ['CREATED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED'] as const;

export type CancellableStatus = (typeof CANCELLABLE_STATUSES)[number];

export function isCancellableStatus(status: OrderStatus): status is CancellableStatus {
  return (CANCELLABLE_STATUSES as readonly OrderStatus[]).includes(status);
}

/** The answer to an accepted (or repeated) cancel request. */
export interface CancelledOrder {
  orderId: string;
  status: 'CANCELLED';
  cancelledBy: CancelledBy;
  cancelledAt: string;
}

export type CancelDecision =
  | { kind: 'accept'; status: CancellableStatus }
  /** Cancelled before and still CANCELLED: the same 202 again, no second event. */
  | { kind: 'already-cancelled'; cancellation: RecordedCancellation }
  /** A driver has it or the saga has ended: 409. */
  | { kind: 'too-late'; status: OrderStatus };

/**
 * An order can be cancelled until a driver is assigned: while it is CREATED, INVENTORY_RESERVED or
 * PAYMENT_AUTHORIZED. From DELIVERY_ASSIGNED on, or once the saga has an outcome, it cannot.
 * Cancelling an order already cancelled is idempotent: the first cancellation is answered again.
 */
export function decideCancellation(order: CancellableOrder): CancelDecision {
  if (order.cancellation && order.status === 'CANCELLED') {
    return { kind: 'already-cancelled', cancellation: order.cancellation };
  }
  if (!isCancellableStatus(order.status)) return { kind: 'too-late', status: order.status };
  return { kind: 'accept', status: order.status };
}

/** CUSTOMER when the owner cancels, ADMIN when an admin cancels someone else's order. */
export function cancelledByFor(
  caller: { subject: string; isAdmin: boolean },
  customerId: string,
): CancelledBy {
  return caller.isAdmin && caller.subject !== customerId ? 'ADMIN' : 'CUSTOMER';
}

export interface CancelRequest {
  cancelledBy: CancelledBy;
  /** The person who asked (the caller); none when the system cancels. */
  actorId?: string;
  reason?: string;
  eventId: string;
  /** ISO-8601; order.cancelled's occurredAt. */
  at: string;
}

export interface Cancellation {
  event: EventEnvelope<'order.cancelled'>;
  progress: OrderProgress;
  recorded: RecordedCancellation;
}

/**
 * The order.cancelled event (caused by the order's order.created, in the order's saga) and the order's
 * progress with it folded in.
 */
export function buildCancellation(order: CancellableOrder, request: CancelRequest): Cancellation {
  const event = createEvent({
    eventType: 'order.cancelled',
    eventId: request.eventId,
    orderId: order.orderId,
    correlationId: order.orderId,
    causationId: order.createdEventId,
    producer: PRODUCER,
    occurredAt: request.at,
    payload: {
      orderId: order.orderId,
      cancelledBy: request.cancelledBy,
      ...(request.actorId === undefined ? {} : { actorId: request.actorId }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    },
  });
  const facts = applyEvent(order.facts, event);
  return {
    event,
    progress: { facts, status: deriveStatus(facts) },
    recorded: { cancelledAt: request.at, cancelledBy: request.cancelledBy, eventId: event.eventId },
  };
}
