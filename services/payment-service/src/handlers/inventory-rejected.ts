import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerContext } from '@dispatch/platform';
import { mergeInventoryRejected } from '../store/order-store';
import type { PaymentDeps } from './context';
import { processOrderEvent } from './processor';

/**
 * inventory.rejected: nothing was reserved, so nothing will ever be charged for this order. The only
 * thing to do is to forget the card token order.created left with us.
 */
export async function handleInventoryRejected(
  deps: PaymentDeps,
  event: EventEnvelope<'inventory.rejected'>,
  ctx: HandlerContext,
): Promise<void> {
  await processOrderEvent(deps, event, (tx) => mergeInventoryRejected(tx, event.orderId), ctx.logger);
}
