import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerContext } from '@dispatch/platform';
import { mergeClose } from '../store/order-store';
import type { PaymentDeps } from './context';
import { processOrderEvent } from './processor';

/**
 * order.cancelled closes the order for payment: an authorized payment is refunded (once, reason
 * ORDER_CANCELLED); before any charge, the cancellation is recorded so a later (or waiting)
 * inventory.reserved is answered with payment.failed ORDER_CANCELLED and nothing is charged.
 */
export async function handleOrderCancelled(
  deps: PaymentDeps,
  event: EventEnvelope<'order.cancelled'>,
  ctx: HandlerContext,
): Promise<void> {
  await processOrderEvent(deps, event, (tx) => mergeClose(tx, 'ORDER_CANCELLED', event), ctx.logger);
}
