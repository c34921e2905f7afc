import type { AnyEvent } from '@dispatch/contracts';
import type { ClientBase } from 'pg';
import { applyOrderEvent, type OrderProgress } from '../domain/progress';
import { lockOrders, saveProgress } from '../store/orders';

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
 * Folds a batch's followed events into their orders, inside the batch's transaction (the batch
 * handler has recorded them in the inbox): the orders are read and locked in one statement, each
 * event is folded with the contract's applyEvent in offset order (an order's later event folds onto
 * its earlier one), and every changed order is stored in one statement. Events of orders that are not
 * ours change nothing.
 */
export async function trackProgress(tx: ClientBase, events: readonly AnyEvent[]): Promise<void> {
  const followed = events.filter(isFollowedEvent);
  if (followed.length === 0) return;
  const orders = await lockOrders(
    tx,
    followed.map((e) => e.orderId),
  );
  const progressOf = new Map<string, OrderProgress>();
  for (const event of followed) {
    const current = progressOf.get(event.orderId) ?? orders.get(event.orderId);
    if (!current) continue;
    progressOf.set(event.orderId, applyOrderEvent(current, event));
  }
  await saveProgress(
    tx,
    [...progressOf].map(([orderId, progress]) => ({ orderId, progress })),
  );
}
