import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import type { StepDeps } from './context';
import { releaseReservation } from './release';

/** payment.failed → nothing was charged: give the reserved stock back (reason PAYMENT_FAILED). */
export function handlePaymentFailed(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'payment.failed'>>,
): Promise<void> {
  return releaseReservation(deps, step);
}
