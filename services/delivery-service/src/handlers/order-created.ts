import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import { findDeliveryByOrder, startSeekingDriver } from '../store/deliveries';
import { recordOrderCreated } from '../store/orders';
import { attemptAssignment, recordAttempt } from '../use-cases/assign';
import type { StepDeps } from './deps';

/**
 * order.created: remember where the order goes. If its payment.authorized came first (the two
 * topics are consumed independently), the delivery was parked as AWAITING_ORDER: it starts
 * looking for a driver now, with the full DRIVER_WAIT_MS from this moment.
 */
export async function handleOrderCreated(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'order.created'>>,
): Promise<void> {
  const { tx, event, logger } = step;
  const now = deps.clock.now();
  const { lat, lng } = event.payload.deliveryAddress;
  await recordOrderCreated(tx, event.orderId, { lat, lng }, now);

  const parked = await findDeliveryByOrder(tx, event.orderId, { forUpdate: true });
  if (parked?.status !== 'AWAITING_ORDER') {
    step.afterCommit(() => logger.debug('delivery address stored'));
    return;
  }
  const deadline = new Date(now.getTime() + deps.settings.driverWaitMs);
  const pending = await startSeekingDriver(tx, parked.deliveryId, { lat, lng }, deadline, now);
  const outcome = await attemptAssignment(tx, pending, now, deps.settings, step.emit);
  step.afterCommit(() => {
    recordAttempt(deps.metrics, outcome);
    logger.info(
      { outcome: outcome.kind, deliveryId: outcome.deliveryId },
      'parked delivery resumed by order.created',
    );
  });
}
