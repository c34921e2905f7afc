import {
  type CancellableOrder,
  type CancellableStatus,
  type CancelRequest,
  decideCancellation,
} from './cancellation';

/** order.cancelled's reason when the saga deadline sweeper cancels an order. */
export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

/** A cancellable-looking order as the sweeper reads it under its row lock, with its age by the database clock. */
export interface AgedOrder extends CancellableOrder {
  /** now() − created_at, in milliseconds. */
  ageMs: number;
}

export type DeadlineDecision =
  /** Stuck past the deadline in a status it can still be cancelled in: the system cancels it. */
  | { kind: 'expire'; stuckIn: CancellableStatus }
  /** Younger than the deadline: the saga may still finish on its own. */
  | { kind: 'keep'; why: 'within-deadline' }
  /** Already cancelled, a driver has it, or the saga has an outcome: nothing to do. */
  | { kind: 'keep'; why: 'not-cancellable' };

/**
 * The saga deadline: an order still CREATED, INVENTORY_RESERVED or PAYMENT_AUTHORIZED more than
 * `deadlineMs` after it was created is cancelled by the system. "Cancellable" is exactly the rule a
 * customer's cancel follows (decideCancellation), so the sweeper can never cancel an order a customer
 * could not: from DELIVERY_ASSIGNED on the delivery takes its own time, and finished or already
 * cancelled orders are left alone.
 */
export function decideDeadline(order: AgedOrder, deadlineMs: number): DeadlineDecision {
  const cancel = decideCancellation(order);
  if (cancel.kind !== 'accept') return { kind: 'keep', why: 'not-cancellable' };
  if (order.ageMs <= deadlineMs) return { kind: 'keep', why: 'within-deadline' };
  return { kind: 'expire', stuckIn: cancel.status };
}

/** The cancel the system asks for: cancelledBy SYSTEM, no actor, reason DEADLINE_EXCEEDED. */
export function deadlineCancelRequest(ids: { eventId: string; at: string }): CancelRequest {
  return { cancelledBy: 'SYSTEM', reason: DEADLINE_EXCEEDED, eventId: ids.eventId, at: ids.at };
}
