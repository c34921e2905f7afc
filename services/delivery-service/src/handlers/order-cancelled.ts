import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import { decideOnOrderCancelled } from '../domain/assignment';
import { findDeliveryByOrder, markCancelled } from '../store/deliveries';
import { releaseDriver } from '../store/drivers';
import { recordOrderCancelled } from '../store/orders';
import type { StepDeps } from './deps';

/**
 * order.cancelled: remember it, so a payment.authorized that comes later assigns nobody, and stop
 * a delivery that is still waiting for a driver. Nothing is emitted: payment and inventory
 * compensate on order.cancelled themselves. order-service refuses cancels after delivery.assigned;
 * one that raced that check was accepted, so its delivery is called off and the driver freed (the
 * batch locked that driver up front, see lockBatch).
 */
export async function handleOrderCancelled(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'order.cancelled'>>,
): Promise<void> {
  const { tx, event, logger } = step;
  const now = deps.clock.now();
  await recordOrderCancelled(tx, event.orderId, now);
  const delivery = await findDeliveryByOrder(tx, event.orderId, { forUpdate: true });
  const decision = decideOnOrderCancelled(delivery?.status);
  if ((decision.kind === 'cancel-delivery' || decision.kind === 'call-off-delivery') && delivery) {
    await markCancelled(tx, delivery.deliveryId, now);
    if (delivery.driverId) await releaseDriver(tx, delivery.driverId, delivery.deliveryId, now);
  }

  step.afterCommit(() => {
    switch (decision.kind) {
      case 'record':
        return logger.info('order cancelled before payment; recorded');
      case 'cancel-delivery':
        return logger.info('order cancelled while waiting for a driver; delivery cancelled');
      case 'call-off-delivery':
        deps.metrics.lateCancellations.inc();
        return logger.warn(
          { deliveryStatus: decision.status },
          'order.cancelled raced the assignment; delivery called off and driver freed',
        );
      case 'ignore-late':
        deps.metrics.lateCancellations.inc();
        return logger.warn(
          { deliveryStatus: decision.status },
          'order.cancelled after the delivery was completed; nothing to call off',
        );
      case 'already-final':
        return logger.info(
          { deliveryStatus: decision.status },
          'order cancelled after its delivery ended; nothing to do',
        );
    }
  });
}
