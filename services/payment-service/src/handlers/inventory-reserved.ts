import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerContext } from '@dispatch/platform';
import { mergeChargeRequest } from '../store/payment-store';
import { type PaymentDeps, processOrderEvent } from './processor';

/**
 * inventory.reserved asks for a charge of `amount`. The dedup layers, cheapest first:
 *   Redis fast path `payment:dedup:{orderId}` (hit → the charge is decided, skip everything);
 *   Redis lock per orderId, then the inbox, then the payments row with its unique orderId.
 * Without order.created (the card token) the request is stored and charged when order.created arrives.
 */
export async function handleInventoryReserved(
  deps: PaymentDeps,
  event: EventEnvelope<'inventory.reserved'>,
  ctx: HandlerContext,
): Promise<void> {
  const { metrics } = deps;
  const stopTimer = metrics.processingDuration.startTimer();

  // Layer 2: written only after the decision committed, so a hit is a duplicate for sure.
  if (await deps.dedup.isDecided(event.orderId)) {
    metrics.dedupRedisHits.inc();
    metrics.duplicates.inc({ layer: 'redis' });
    ctx.logger.debug('charge request skipped: redis dedup key present');
    stopTimer({ outcome: 'duplicate' });
    return;
  }

  let result: Awaited<ReturnType<typeof processOrderEvent>>;
  try {
    result = await processOrderEvent(
      deps,
      event,
      (tx) =>
        mergeChargeRequest(tx, {
          orderId: event.orderId,
          customerId: event.payload.customerId,
          eventId: event.eventId,
          requestedAt: event.occurredAt,
          correlationId: event.correlationId,
          amount: event.payload.amount,
          currency: event.payload.currency,
        }),
      ctx.logger,
    );
  } catch (err) {
    stopTimer({ outcome: 'retry' });
    throw err;
  }

  const { firstDelivery, settlement, outcome } = result;
  if (settlement.step === 'settled' || outcome === 'already_completed') {
    if (!firstDelivery) {
      metrics.duplicates.inc({ layer: 'inbox' });
    } else if (settlement.paymentExisted) {
      // A new eventId asking to charge an order that already has its payment (layer 3).
      metrics.dedupDbHits.inc();
      metrics.duplicates.inc({ layer: 'db' });
    }
    stopTimer({ outcome: 'duplicate' });
    return;
  }
  if (outcome === 'waiting') ctx.logger.info('charge request stored until order.created arrives');
  stopTimer({ outcome });
}
