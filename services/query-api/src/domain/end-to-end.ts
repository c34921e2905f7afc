import {
  type AnyEvent,
  deriveStatus,
  type EventType,
  isTerminal,
  type OrderFacts,
  type OrderStatus,
} from '@dispatch/contracts';

/**
 * `order_end_to_end_latency_seconds`: from an order's order.created `occurredAt` to the moment the
 * live consumer applied the event that decided the order (made its derived status terminal).
 *
 * This module says WHAT the observation of an order is once the order is decided. WHEN it is made
 * (once per order, whatever the redeliveries, instances and arrival order) is the live consumer's
 * claim: see `createReadModelHandler` and `EndToEndClaims`.
 */

export interface EndToEndObservation {
  /** The terminal status the order has at the moment it is observed. */
  status: OrderStatus;
  /** now − order.created occurredAt, never negative (clock skew between hosts). */
  seconds: number;
}

/**
 * The observation for an order whose applied facts are `facts`, or undefined while the order is not
 * decided: its derived status is not terminal, or its order.created has not been applied yet. In
 * the second case `facts.createdAt` is only a stand-in (the earliest event seen), so the observation
 * waits for order.created, whose apply is then the terminal moment. Deciding facts never become
 * undecided again (facts only accumulate, and every terminal status outranks every non-terminal
 * one in the fold), which is what lets the consumer treat the first decided read as the moment.
 */
export function endToEndObservation(facts: OrderFacts, nowMs: number): EndToEndObservation | undefined {
  const status = deriveStatus(facts);
  if (!isTerminal(status) || !facts.order) return undefined;
  const createdAtMs = Date.parse(facts.order.createdAt);
  return { status, seconds: Math.max(0, (nowMs - createdAtMs) / 1000) };
}

/**
 * The event types whose apply can decide an order: order.created (when the terminal event came
 * first) and the five that make the derived status terminal (`deriveStatus`: a completed or failed
 * delivery, a cancellation, a failed payment, a rejected reservation). Any other event (a
 * reservation, an authorisation, an assignment, an ETA, a compensation) adds only facts that never
 * make a status terminal, so it leaves an undecided order undecided.
 */
export const DECIDING_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'order.created',
  'order.cancelled',
  'inventory.rejected',
  'payment.failed',
  'delivery.failed',
  'delivery.completed',
]);

/** Whether applying these events (of one order) may have decided it; if not, no read is needed. */
export function mayDecide(events: readonly AnyEvent[]): boolean {
  return events.some((event) => DECIDING_EVENT_TYPES.has(event.eventType));
}
