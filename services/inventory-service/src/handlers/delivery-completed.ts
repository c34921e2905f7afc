import type { EventEnvelope } from '@dispatch/contracts';
import { recordInbox, withTransaction } from '@dispatch/platform';
import { type CompletionDecision, decideCompletion } from '../domain/release';
import { moveStock } from '../store/catalogue-store';
import { lockOrder, markSold } from '../store/reservation-store';
import type { HandlerCall, HandlerDeps } from './context';
import { INBOX_CONSUMER } from './context';

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
  deps: HandlerDeps,
  event: EventEnvelope<'delivery.completed'>,
  call: HandlerCall,
): Promise<void> {
  const decision = await withTransaction(deps.pool, async (tx): Promise<CompletionDecision | undefined> => {
    if (!(await recordInbox(tx, INBOX_CONSUMER, event.eventId, event.eventType))) return undefined;

    const existing = await lockOrder(tx, event.orderId);
    const decision = decideCompletion(existing);

    switch (decision.kind) {
      case 'sell':
        await moveStock(tx, 'sell', decision.lines);
        await markSold(tx, event.orderId);
        break;
      case 'awaitReservation':
        // Rolls back the inbox record too, so the retry (or a DLQ replay) is handled afresh.
        throw new ReservationNotFoundError(event.orderId);
      case 'ignore':
        break;
    }
    return decision;
  });

  if (!decision) {
    call.logger.debug('delivery.completed already handled (inbox)');
    return;
  }
  if (decision.kind === 'sell') {
    deps.metrics.sales.inc();
    call.logger.info({ lines: decision.lines.length }, 'reservation sold');
  } else if (decision.kind === 'ignore') {
    call.logger.warn({ why: decision.why }, 'delivery.completed changed no stock');
  }
}
