import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import type { StepDeps } from './context';
import { releaseReservation } from './release';

/**
 * order.cancelled → give the reserved stock back (reason ORDER_CANCELLED). order-service accepts a
 * cancellation only before delivery.assigned, so the stock is still reserved, not sold.
 */
export function handleOrderCancelled(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'order.cancelled'>>,
): Promise<void> {
  return releaseReservation(deps, step);
}
