import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import type { StepDeps } from './context';
import { releaseReservation } from './release';

/** delivery.failed → the goods will not leave: give the reserved stock back (reason DELIVERY_FAILED). */
export function handleDeliveryFailed(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'delivery.failed'>>,
): Promise<void> {
  return releaseReservation(deps, step);
}
