import { ConflictError, enqueue, NotFoundError, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import type { Clock } from '../clock';
import { isActive } from '../domain/delivery';
import { deliveryCompletedEvent } from '../domain/events';
import { type Delivery, findDeliveryByOrder, markCompleted } from '../store/deliveries';
import { releaseDriver } from '../store/drivers';

/**
 * Marks the order's active delivery COMPLETED, frees its driver (who keeps their duty status) and
 * writes delivery.completed to the outbox, in one transaction. 404 when the order has no delivery,
 * 409 when it is not active (still waiting for a driver, or already completed, failed or cancelled).
 * POST …/complete calls this; the simulated fleet calls `completeLockedDelivery` on arrival.
 */
export async function completeDelivery(pool: Pool, clock: Clock, orderId: string): Promise<Delivery> {
  return withTransaction(pool, async (tx) => {
    const delivery = await findDeliveryByOrder(tx, orderId, { forUpdate: true });
    if (!delivery) throw new NotFoundError(`No delivery for order ${orderId}.`);
    return completeLockedDelivery(tx, delivery, clock.now());
  });
}

/**
 * The completion itself, for a delivery whose row `tx` has locked (FOR UPDATE). The lock is what
 * makes a manual complete and the fleet's arrival safe together: the second one waits for the first
 * to commit, then finds the delivery COMPLETED and gets the 409 `delivery-not-active` — one
 * delivery.completed, one driver release.
 */
export async function completeLockedDelivery(
  tx: ClientBase,
  delivery: Delivery,
  now: Date,
): Promise<Delivery> {
  const { orderId } = delivery;
  if (!isActive(delivery.status) || !delivery.driverId || !delivery.driverName) {
    throw new ConflictError(
      `The delivery of order ${orderId} is ${delivery.status}; only ASSIGNED or EN_ROUTE deliveries can be completed.`,
      'delivery-not-active',
    );
  }
  const event = deliveryCompletedEvent(
    { orderId, correlationId: delivery.correlationId, causationId: delivery.lastEventId },
    { deliveryId: delivery.deliveryId, driverId: delivery.driverId, driverName: delivery.driverName },
    now,
  );
  const completed = await markCompleted(tx, delivery.deliveryId, event.eventId, now);
  await releaseDriver(tx, delivery.driverId, delivery.deliveryId, now);
  await enqueue(tx, [event]);
  return completed;
}
