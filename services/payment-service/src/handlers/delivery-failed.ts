import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerContext } from '@dispatch/platform';
import { mergeClose } from '../store/order-store';
import type { PaymentDeps } from './context';
import { processOrderEvent } from './processor';

/**
 * delivery.failed: the customer will not get the goods, so an authorized payment is refunded (once,
 * reason DELIVERY_FAILED). Should it ever arrive before the charge, nothing is charged.
 */
export async function handleDeliveryFailed(
  deps: PaymentDeps,
  event: EventEnvelope<'delivery.failed'>,
  ctx: HandlerContext,
): Promise<void> {
  await processOrderEvent(deps, event, (tx) => mergeClose(tx, 'DELIVERY_FAILED', event), ctx.logger);
}
