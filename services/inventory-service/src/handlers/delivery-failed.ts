import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerCall, HandlerDeps } from './context';
import { releaseReservation } from './release';

/** delivery.failed → the goods will not leave: give the reserved stock back (reason DELIVERY_FAILED). */
export function handleDeliveryFailed(
  deps: HandlerDeps,
  event: EventEnvelope<'delivery.failed'>,
  call: HandlerCall,
): Promise<void> {
  return releaseReservation(deps, event, call);
}
