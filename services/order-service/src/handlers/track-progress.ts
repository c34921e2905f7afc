import type { AnyEvent } from '@dispatch/contracts';
import type { StepContext } from '@dispatch/platform';
import { applyOrderEvent } from '../domain/progress';
import { lockOrder, saveProgress } from '../store/orders';

/**
 * order-service follows each order's status only to know whether it may still be cancelled (by its
 * customer, an admin or the saga deadline sweeper), so it follows exactly the events that move it:
 *
 * - inventory.reserved   lines held at catalogue prices; still cancellable
 * - inventory.rejected   nothing reserved; ends as INVENTORY_REJECTED
 * - payment.authorized   amount held on the card; still cancellable (payment refunds)
 * - payment.failed       nothing charged; ends as PAYMENT_FAILED
 * - delivery.assigned    a driver has it; from now on no longer cancellable
 * - eta.updated          only sent for an assigned delivery, so DELIVERY_ASSIGNED even when it
 *                        overtakes delivery.assigned
 * - delivery.failed      ends as DELIVERY_FAILED (payment refunds, inventory releases)
 * - delivery.completed   ends as DELIVERED
 *
 * Compensations (inventory.released, payment.refunded) do not change the status, and order.* events
 * are this service's own.
 */
export const FOLLOWED_EVENT_TYPES = [
  'inventory.reserved',
  'inventory.rejected',
  'payment.authorized',
  'payment.failed',
  'delivery.assigned',
  'eta.updated',
  'delivery.failed',
  'delivery.completed',
] as const;

export type FollowedEvent = Extract<AnyEvent, { eventType: (typeof FOLLOWED_EVENT_TYPES)[number] }>;

export function isFollowedEvent(event: AnyEvent): event is FollowedEvent {
  return (FOLLOWED_EVENT_TYPES as readonly string[]).includes(event.eventType);
}

/**
 * Folds one followed event into its order, inside the batch's transaction (the batch handler has
 * recorded it in the inbox and locked the batch's orders): fold it with the contract's applyEvent and
 * store the derived status. Events of orders that are not ours change nothing.
 */
export async function trackProgress(step: StepContext & { event: FollowedEvent }): Promise<void> {
  const order = await lockOrder(step.tx, step.event.orderId);
  if (!order) return step.logger.debug('event for an order this service does not know; ignored');
  const progress = applyOrderEvent(order, step.event);
  await saveProgress(step.tx, order.orderId, progress);
  step.logger.debug({ status: progress.status }, 'order progress recorded');
}
