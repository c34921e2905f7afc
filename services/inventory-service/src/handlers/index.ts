import { Topics } from '@dispatch/contracts';
import type { EventHandler } from '@dispatch/platform';
import type { HandlerDeps } from './context';
import { handleDeliveryCompleted } from './delivery-completed';
import { handleDeliveryFailed } from './delivery-failed';
import { handleOrderCancelled } from './order-cancelled';
import { handleOrderCreated } from './order-created';
import { handlePaymentFailed } from './payment-failed';
import { handlePaymentRefunded } from './payment-refunded';

/** The topics whose events inventory reacts to (its own raw.inventory-events is not among them). */
export const CONSUMED_TOPICS = [Topics.order, Topics.payment, Topics.delivery];

/** Routes each event to its handler; event types inventory does not care about are skipped untouched. */
export function createEventHandler(deps: HandlerDeps): EventHandler {
  return async (event, call) => {
    switch (event.eventType) {
      case 'order.created':
        return handleOrderCreated(deps, event, call);
      case 'order.cancelled':
        return handleOrderCancelled(deps, event, call);
      case 'payment.failed':
        return handlePaymentFailed(deps, event, call);
      case 'payment.refunded':
        return handlePaymentRefunded(deps, event, call);
      case 'delivery.failed':
        return handleDeliveryFailed(deps, event, call);
      case 'delivery.completed':
        return handleDeliveryCompleted(deps, event, call);
      default:
        return;
    }
  };
}
