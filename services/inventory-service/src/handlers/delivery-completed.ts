import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import { decideCompletion } from '../domain/release';
import { moveStock } from '../store/catalogue-store';
import { markSold, orderStock } from '../store/reservation-store';
import type { StepDeps } from './context';

/** No reservation is known yet for a delivered order; retried, then dead-lettered if it never appears. */
export class ReservationNotFoundError extends Error {
  constructor(orderId: string) {
    super(`delivery.completed for order ${orderId}, which has no reservation here (yet)`);
    this.name = 'ReservationNotFoundError';
  }
}

/**
 * delivery.completed → the reservation becomes a sale: its units leave `reserved` for good and
 * nothing returns to `available`. No event is produced (the delivery itself is the fact).
 */
export async function handleDeliveryCompleted(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'delivery.completed'>>,
): Promise<void> {
  const { tx, event, logger } = step;
  const existing = await orderStock(tx, event.orderId);
  const decision = decideCompletion(existing);

  switch (decision.kind) {
    case 'sell':
      await moveStock(tx, 'sell', decision.lines);
      await markSold(tx, event.orderId);
      step.afterCommit(() => {
        deps.metrics.sales.inc();
        logger.info({ lines: decision.lines.length }, 'reservation sold');
      });
      break;
    case 'awaitReservation':
      // Rolls back the batch, inbox records included; the consumer then retries this event on its own
      // (and dead-letters it if the reservation never shows up), so a retry is handled afresh.
      throw new ReservationNotFoundError(event.orderId);
    case 'ignore':
      step.afterCommit(() => logger.warn({ why: decision.why }, 'delivery.completed changed no stock'));
      break;
  }
}
