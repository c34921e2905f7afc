import type { EventEnvelope } from '@dispatch/contracts';
import { type Logger, recordInbox, withTransaction } from '@dispatch/platform';
import { findDeliveryByOrder, startSeekingDriver } from '../store/deliveries';
import { lockOrder, recordOrderCreated } from '../store/orders';
import { type AttemptOutcome, attemptAssignment, recordAttempt } from '../use-cases/assign';
import { CONSUMER, type HandlerDeps } from './deps';

/**
 * order.created: remember where the order goes. If its payment.authorized came first (the two
 * topics are consumed independently), the delivery was parked as AWAITING_ORDER: it starts
 * looking for a driver now, with the full DRIVER_WAIT_MS from this moment.
 */
export async function handleOrderCreated(
  event: EventEnvelope<'order.created'>,
  deps: HandlerDeps,
  log: Logger,
): Promise<void> {
  const now = deps.clock.now();
  const { lat, lng } = event.payload.deliveryAddress;
  const outcome = await withTransaction(
    deps.pool,
    async (tx): Promise<AttemptOutcome | 'duplicate' | 'stored'> => {
      if (!(await recordInbox(tx, CONSUMER, event.eventId, event.eventType))) return 'duplicate';
      await lockOrder(tx, event.orderId, now);
      await recordOrderCreated(tx, event.orderId, { lat, lng }, now);

      const parked = await findDeliveryByOrder(tx, event.orderId, { forUpdate: true });
      if (parked?.status !== 'AWAITING_ORDER') return 'stored';
      const deadline = new Date(now.getTime() + deps.settings.driverWaitMs);
      const pending = await startSeekingDriver(tx, parked.deliveryId, { lat, lng }, deadline, now);
      return attemptAssignment(tx, pending, now, deps.settings);
    },
  );

  if (outcome === 'duplicate') return log.debug('order.created already handled');
  if (outcome === 'stored') return log.debug('delivery address stored');
  recordAttempt(deps.metrics, outcome);
  log.info(
    { outcome: outcome.kind, deliveryId: outcome.deliveryId },
    'parked delivery resumed by order.created',
  );
}
