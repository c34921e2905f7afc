import { consumedTopics } from '@dispatch/contracts';
import type { EventHandler } from '@dispatch/platform';
import type { PaymentDeps } from './context';
import { handleDeliveryFailed } from './delivery-failed';
import { handleInventoryRejected } from './inventory-rejected';
import { handleInventoryReserved } from './inventory-reserved';
import { handleOrderCancelled } from './order-cancelled';
import { handleOrderCreated } from './order-created';

export type { PaymentDeps } from './context';

/** What payment reads: the order, inventory and delivery topics. */
export const CONSUMED_TOPICS = [...consumedTopics('payment-service')];

/**
 * The event types payment acts on, from order (token, cancellation), inventory (charge requests and
 * rejections) and delivery (failures); the consumer acknowledges every other type untouched.
 */
export const HANDLED_EVENT_TYPES = [
  'order.created',
  'inventory.reserved',
  'inventory.rejected',
  'order.cancelled',
  'delivery.failed',
] as const;

/** One handler for every consumed event; other event types are ignored (nothing recorded). */
export function createEventHandler(deps: PaymentDeps): EventHandler {
  return async (event, ctx) => {
    switch (event.eventType) {
      case 'order.created':
        return handleOrderCreated(deps, event, ctx);
      case 'inventory.reserved':
        return handleInventoryReserved(deps, event, ctx);
      case 'inventory.rejected':
        return handleInventoryRejected(deps, event, ctx);
      case 'order.cancelled':
        return handleOrderCancelled(deps, event, ctx);
      case 'delivery.failed':
        return handleDeliveryFailed(deps, event, ctx);
      default:
        return;
    }
  };
}
