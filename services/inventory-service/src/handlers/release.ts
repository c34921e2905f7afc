import { followUp } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import { observeStageLatency } from '@dispatch/platform';
import { decideRelease, type ReleaseTrigger, releaseReasonOf } from '../domain/release';
import { moveStock } from '../store/catalogue-store';
import { insertTombstone, markReleased, orderStock } from '../store/reservation-store';
import type { StepDeps } from './context';

/**
 * The one release procedure behind payment.failed, payment.refunded, delivery.failed and
 * order.cancelled: inside the batch's transaction (inbox recorded, order and held items locked), give
 * the held lines back to `available` and publish inventory.released — once, whichever compensation
 * comes first. A release that arrives before the order is remembered as a tombstone, so the
 * reservation is never made.
 */
export async function releaseReservation(deps: StepDeps, step: StepOf<ReleaseTrigger>): Promise<void> {
  const { tx, event, logger } = step;
  const reason = releaseReasonOf(event);

  const existing = await orderStock(tx, event.orderId);
  const decision = decideRelease(existing, reason);

  switch (decision.kind) {
    case 'release':
      await moveStock(tx, 'release', decision.lines);
      await markReleased(tx, event.orderId, reason);
      step.emit(
        followUp(event, 'inventory.released', {
          orderId: event.orderId,
          customerId: decision.customerId,
          currency: decision.currency,
          amount: decision.amount,
          reason,
          lines: decision.lines,
        }),
      );
      step.afterCommit(() => {
        deps.metrics.releases.inc({ reason });
        observeStageLatency(deps.metrics.stageLatency, 'inventory.released', event.occurredAt);
        logger.info({ reason, amount: decision.amount }, 'reservation released');
      });
      break;
    case 'tombstone':
      await insertTombstone(tx, event.orderId, reason);
      step.afterCommit(() =>
        logger.info({ reason }, 'release arrived before the order; recorded so it is never reserved'),
      );
      break;
    case 'ignore':
      step.afterCommit(() => logger.info({ reason, why: decision.why }, 'nothing to release'));
      break;
  }
}
