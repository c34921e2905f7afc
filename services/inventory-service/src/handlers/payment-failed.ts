import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerCall, HandlerDeps } from './context';
import { releaseReservation } from './release';

/** payment.failed → nothing was charged: give the reserved stock back (reason PAYMENT_FAILED). */
export function handlePaymentFailed(
  deps: HandlerDeps,
  event: EventEnvelope<'payment.failed'>,
  call: HandlerCall,
): Promise<void> {
  return releaseReservation(deps, event, call);
}
