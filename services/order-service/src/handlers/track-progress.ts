import type { AnyEvent } from '@dispatch/contracts';
import { type HandlerContext, recordInbox, withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import { applyOrderEvent } from '../domain/progress';
import { lockOrder, saveProgress } from '../store/orders';

export interface HandlerDeps {
  pool: Pool;
  /** The inbox's consumer name (the service name). */
  consumer: string;
}

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
 * Folds one followed event into its order, in one transaction: lock the order, record the event in the
 * inbox (a duplicate is a no-op), fold it with the contract's applyEvent and store the derived status.
 */
export async function trackProgress(
  deps: HandlerDeps,
  event: FollowedEvent,
  ctx: HandlerContext,
): Promise<void> {
  await withTransaction(deps.pool, async (tx) => {
    // Locking the order first serialises its writes; events of orders that are not ours are skipped
    // without recording them.
    const order = await lockOrder(tx, event.orderId);
    if (!order) return ctx.logger.debug('event for an order this service does not know; ignored');
    if (!(await recordInbox(tx, deps.consumer, event.eventId, event.eventType))) return;
    const progress = applyOrderEvent(order, event);
    await saveProgress(tx, order.orderId, progress);
    ctx.logger.debug({ status: progress.status }, 'order progress recorded');
  });
}
