import type { EventEnvelope } from '@dispatch/contracts';
import type { HandlerContext } from '@dispatch/platform';
import { mergeChargeRequest } from '../store/order-store';
import type { PaymentDeps } from './context';
import { processOrderEvent } from './processor';

/**
 * inventory.reserved asks for a charge of `amount`: the charge, answered with payment.authorized or
 * payment.failed and never made twice. In order, cheapest first:
 *   1. Redis fast path `payment:dedup:{orderId}` (layer 2): a hit means the charge is decided; skip it all.
 *   2. Redis lock per orderId (layer 1, `processOrderEvent`): duplicates queue up instead of racing.
 *   3. One transaction: the inbox, the request merged into the order's facts, the decision (domain
 *      `nextStep`) and the PENDING payment under its unique orderId (layer 3, charge.ts `openCharge`).
 *   4. After commit: the gateway call under the order's idempotency key, PENDING → AUTHORIZED | FAILED
 *      with its event, then the fast-path key (charge.ts `driveCharge`).
 * Lock busy or the charge in flight in another worker throw RetryableErrors (errors.ts): the consumer
 * retries. Without order.created (the card token) the request is stored and charged when it arrives.
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
