import { Topics } from '@dispatch/contracts';
import type { EventHandler } from '@dispatch/platform';
import type { HandlerDeps } from './deps';
import { handleOrderCancelled } from './order-cancelled';
import { handleOrderCreated } from './order-created';
import { handlePaymentAuthorized } from './payment-authorized';

export { CONSUMER, type HandlerDeps } from './deps';

/** What delivery-service reads: addresses and cancels from orders, the go signal from payments. */
export const CONSUMED_TOPICS = [Topics.order, Topics.payment];

/** Dispatches by event type; every other type on these topics is none of our business. */
export function createEventHandler(deps: HandlerDeps): EventHandler {
  return async (event, ctx) => {
    switch (event.eventType) {
      case 'order.created':
        return handleOrderCreated(event, deps, ctx.logger);
      case 'order.cancelled':
        return handleOrderCancelled(event, deps, ctx.logger);
      case 'payment.authorized':
        return handlePaymentAuthorized(event, deps, ctx.logger);
      default:
        return;
    }
  };
}
