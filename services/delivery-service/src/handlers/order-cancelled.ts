import type { EventEnvelope } from '@dispatch/contracts';
import { type Logger, recordInbox, withTransaction } from '@dispatch/platform';
import { type CancellationDecision, decideOnOrderCancelled } from '../domain/assignment';
import { findDeliveryByOrder, markCancelled } from '../store/deliveries';
import { releaseDriver } from '../store/drivers';
import { lockOrder, recordOrderCancelled } from '../store/orders';
import { CONSUMER, type HandlerDeps } from './deps';

/**
 * order.cancelled: remember it, so a payment.authorized that comes later assigns nobody, and stop
 * a delivery that is still waiting for a driver. Nothing is emitted: payment and inventory
 * compensate on order.cancelled themselves. order-service refuses cancels after delivery.assigned;
 * one that raced that check was accepted, so its delivery is called off and the driver freed.
 */
export async function handleOrderCancelled(
  event: EventEnvelope<'order.cancelled'>,
  deps: HandlerDeps,
  log: Logger,
): Promise<void> {
  const now = deps.clock.now();
  const decision = await withTransaction(
    deps.pool,
    async (tx): Promise<CancellationDecision | 'duplicate'> => {
      if (!(await recordInbox(tx, CONSUMER, event.eventId, event.eventType))) return 'duplicate';
      await lockOrder(tx, event.orderId, now);
      await recordOrderCancelled(tx, event.orderId, now);
      const delivery = await findDeliveryByOrder(tx, event.orderId, { forUpdate: true });
      const decision = decideOnOrderCancelled(delivery?.status);
      if ((decision.kind === 'cancel-delivery' || decision.kind === 'call-off-delivery') && delivery) {
        await markCancelled(tx, delivery.deliveryId, now);
        if (delivery.driverId) await releaseDriver(tx, delivery.driverId, delivery.deliveryId, now);
      }
      return decision;
    },
  );

  if (decision === 'duplicate') return log.debug('order.cancelled already handled');
  switch (decision.kind) {
    case 'record':
      return log.info('order cancelled before payment; recorded');
    case 'cancel-delivery':
      return log.info('order cancelled while waiting for a driver; delivery cancelled');
    case 'call-off-delivery':
      deps.metrics.lateCancellations.inc();
      return log.warn(
        { deliveryStatus: decision.status },
        'order.cancelled raced the assignment; delivery called off and driver freed',
      );
    case 'ignore-late':
      deps.metrics.lateCancellations.inc();
      return log.warn(
        { deliveryStatus: decision.status },
        'order.cancelled after the delivery was completed; nothing to call off',
      );
    case 'already-final':
      return log.info(
        { deliveryStatus: decision.status },
        'order cancelled after its delivery ended; nothing to do',
      );
  }
}
