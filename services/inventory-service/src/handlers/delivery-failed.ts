import type { EventEnvelope } from '@dispatch/contracts';
import type { StepDeps, StepOf } from './context';
import { releaseReservation } from './release';

/** delivery.failed → the goods will not leave: give the reserved stock back (reason DELIVERY_FAILED). */
export function handleDeliveryFailed(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'delivery.failed'>>,
): Promise<void> {
  return releaseReservation(deps, step);
}
