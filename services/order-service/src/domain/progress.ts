import {
  type AnyEvent,
  applyEvent,
  deriveStatus,
  type OrderFacts,
  type OrderStatus,
} from '@dispatch/contracts';

/** What order-service knows about an order's saga: the contract's fold and the status it derives. */
export interface OrderProgress {
  facts: OrderFacts;
  status: OrderStatus;
}

/**
 * Folds one consumed event into the order's facts with the contract's `applyEvent` and derives the
 * status with its precedence. The fold is a commutative, idempotent merge, so the status only ever moves
 * forward by that precedence, whatever order the topics deliver in and however often.
 */
export function applyOrderEvent(current: OrderProgress, event: AnyEvent): OrderProgress {
  const facts = applyEvent(current.facts, event);
  return { facts, status: deriveStatus(facts) };
}
