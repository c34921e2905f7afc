import { consumedTopics } from '@dispatch/contracts';
import { type BatchHandler, type ConsumedEvent, withConsumerSpans } from '@dispatch/platform';
import type { PaymentDeps } from './context';
import { factOf } from './facts';
import { type BatchResult, type OrderEvent, processOrderEvents } from './processor';

export type { PaymentDeps } from './context';

/** What payment reads: the order, inventory and delivery topics. */
export const CONSUMED_TOPICS = [...consumedTopics('payment-service')];

/**
 * The event types payment acts on, from order (token, cancellation), inventory (charge requests and
 * rejections) and delivery (failures); the consumer acknowledges every other type untouched.
 */
export const HANDLED_EVENT_TYPES = [
  'order.created',
  'inventory.reserved',
  'inventory.rejected',
  'order.cancelled',
  'delivery.failed',
] as const;

/**
 * The consumer's handler: a fetched batch of events, each in its consumer span. An inventory.reserved
 * asks for a charge, answered with payment.authorized or payment.failed and never made twice. In
 * order, cheapest first:
 *   1. Redis fast path `payment:dedup:{orderId}` (layer 2), for all of the batch's requests in one
 *      round trip: a hit means the charge is decided; the request is skipped.
 *   2. Redis locks per orderId (layer 1, processor.ts): duplicates queue up instead of racing.
 *   3. One transaction: the inbox, each event's fact merged (facts.ts), each order's decision (domain
 *      `nextStep`) and a PENDING payment under its unique orderId (layer 3, charge.ts `openCharge`).
 *   4. After commit: the gateway calls under each order's idempotency key, PENDING → AUTHORIZED | FAILED
 *      with their events in one transaction (charge.ts `driveCharges`), then the fast-path keys.
 * Lock busy or a charge in flight in another worker throw RetryableErrors (errors.ts): the consumer
 * retries. Without order.created (the card token) the request is stored and charged when it arrives.
 */
export function createBatchHandler(deps: PaymentDeps): BatchHandler {
  return (items) =>
    withConsumerSpans(items, async (traceparents) => {
      const requests = items.filter(({ event }) => event.eventType === 'inventory.reserved');
      const timers = new Map(requests.map((item) => [item, deps.metrics.processingDuration.startTimer()]));
      const decided = await deps.dedup.decidedAmong([...new Set(requests.map(({ event }) => event.orderId))]);
      const events = new Map<ConsumedEvent, OrderEvent>();
      items.forEach((item, i) => {
        const { event } = item;
        if (event.eventType === 'inventory.reserved' && decided.has(event.orderId)) {
          // Layer 2: written only after the decision committed, so a hit is a duplicate for sure.
          deps.metrics.dedupRedisHits.inc();
          deps.metrics.duplicates.inc({ layer: 'redis' });
          item.logger.debug('charge request skipped: redis dedup key present');
          timers.get(item)?.({ outcome: 'duplicate' });
          timers.delete(item);
          return;
        }
        const merge = factOf(event);
        const traceparent = traceparents[i];
        if (merge)
          events.set(item, { event, merge, logger: item.logger, ...(traceparent ? { traceparent } : {}) });
      });
      if (events.size === 0) return;

      let result: BatchResult;
      try {
        result = await processOrderEvents(deps, [...events.values()]);
      } catch (err) {
        for (const stop of timers.values()) stop({ outcome: 'retry' });
        throw err;
      }
      countRequests(deps, timers, events, result);
    });
}

/** Each charge request's outcome: what its order's settlement came to, or which layer found it a duplicate. */
function countRequests(
  deps: PaymentDeps,
  timers: ReadonlyMap<ConsumedEvent, (labels: { outcome: string }) => void>,
  events: ReadonlyMap<ConsumedEvent, OrderEvent>,
  result: BatchResult,
): void {
  const { metrics } = deps;
  /** Orders whose first new request this batch has counted; a second one is a duplicate. */
  const counted = new Set<string>();
  for (const [item, stopTimer] of timers) {
    const { event } = item;
    const order = result.orders.get(event.orderId);
    if (!order) continue;
    const { settlement, outcome } = order;
    const processed = events.get(item);
    const firstDelivery = processed !== undefined && result.firstDeliveries.has(processed);
    // Another request of this order earlier in the batch already decided it: this one is a duplicate.
    const alreadyAsked = counted.has(event.orderId);
    if (firstDelivery) counted.add(event.orderId);
    if (settlement.step === 'settled' || outcome === 'already_completed' || alreadyAsked) {
      if (!firstDelivery) {
        metrics.duplicates.inc({ layer: 'inbox' });
      } else if (settlement.paymentExisted || alreadyAsked) {
        // A new eventId asking to charge an order that already has its payment (layer 3).
        metrics.dedupDbHits.inc();
        metrics.duplicates.inc({ layer: 'db' });
      }
      stopTimer({ outcome: 'duplicate' });
      continue;
    }
    if (outcome === 'waiting') item.logger.info('charge request stored until order.created arrives');
    stopTimer({ outcome });
  }
}
