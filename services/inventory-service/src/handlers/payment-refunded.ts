import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import type { StepDeps } from './context';
import { releaseReservation } from './release';

/**
 * payment.refunded → the order was undone after payment (a failed delivery or a cancellation, as the
 * refund's reason says): give the reserved stock back. The delivery.failed or order.cancelled that
 * caused the refund releases the same reservation; whichever arrives first does it, the other is a no-op.
 */
export function handlePaymentRefunded(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'payment.refunded'>>,
): Promise<void> {
  return releaseReservation(deps, step);
}
