import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerContext } from '@dispatch/platform';
import { mergeOrderCreated } from '../store/order-store';
import type { PaymentDeps } from './context';
import { processOrderEvent } from './processor';

/**
 * order.created carries the card token. It is stored; if inventory.reserved was already handled (its
 * charge request is waiting for the token), the charge happens now.
 */
export async function handleOrderCreated(
  deps: PaymentDeps,
  event: EventEnvelope<'order.created'>,
  ctx: HandlerContext,
): Promise<void> {
  const { paymentMethod, customerId } = event.payload;
  await processOrderEvent(
    deps,
    event,
    (tx) =>
      mergeOrderCreated(tx, {
        orderId: event.orderId,
        customerId,
        cardToken: paymentMethod.type === 'card' ? (paymentMethod.token ?? null) : null,
      }),
    ctx.logger,
  );
}
