import { enqueue, observeStageLatency, recordInbox, withTransaction } from '@dispatch/platform';
import { decideRelease, type ReleaseDecision, type ReleaseTrigger, releaseReasonOf } from '../domain/release';
import { moveStock } from '../store/catalogue-store';
import { insertTombstone, lockOrder, markReleased } from '../store/reservation-store';
import { followUp, type HandlerCall, type HandlerDeps, INBOX_CONSUMER } from './context';

/**
 * The one release procedure behind payment.failed, payment.refunded, delivery.failed and
 * order.cancelled: in one transaction with the inbox record, give the held lines back to `available`
 * and publish inventory.released — once, whichever compensation comes first. A release that arrives
 * before the order is remembered as a tombstone, so the reservation is never made.
 */
export async function releaseReservation(
  deps: HandlerDeps,
  event: ReleaseTrigger,
  call: HandlerCall,
): Promise<void> {
  const reason = releaseReasonOf(event);

  const decision = await withTransaction(deps.pool, async (tx): Promise<ReleaseDecision | undefined> => {
    if (!(await recordInbox(tx, INBOX_CONSUMER, event.eventId, event.eventType))) return undefined;

    const existing = await lockOrder(tx, event.orderId);
    const decision = decideRelease(existing, reason);

    switch (decision.kind) {
      case 'release':
        await moveStock(tx, 'release', decision.lines);
        await markReleased(tx, event.orderId, reason);
        await enqueue(tx, [
          followUp(event, 'inventory.released', {
            orderId: event.orderId,
            customerId: decision.customerId,
            currency: decision.currency,
            amount: decision.amount,
            reason,
            lines: decision.lines,
          }),
        ]);
        break;
      case 'tombstone':
        await insertTombstone(tx, event.orderId, reason);
        break;
      case 'ignore':
        break;
    }
    return decision;
  });

  if (!decision) {
    call.logger.debug(`${event.eventType} already handled (inbox)`);
    return;
  }
  switch (decision.kind) {
    case 'release':
      deps.metrics.releases.inc({ reason });
      observeStageLatency(deps.metrics.stageLatency, 'inventory.released', event.occurredAt);
      call.logger.info({ reason, amount: decision.amount }, 'reservation released');
      break;
    case 'tombstone':
      call.logger.info({ reason }, 'release arrived before the order; recorded so it is never reserved');
      break;
    case 'ignore':
      call.logger.info({ reason, why: decision.why }, 'nothing to release');
      break;
  }
}
