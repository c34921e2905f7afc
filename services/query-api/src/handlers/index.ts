import type { AnyEvent } from '@dispatch/contracts';
import type { Logger } from '@dispatch/platform';
import type { OrderChanges } from '../changes';
import { endToEndObservation } from '../domain/end-to-end';
import { CorruptRowError, factsFromRow } from '../domain/facts-from-row';
import type { ReadModelWrite } from '../domain/writes';
import type { QueryMetrics } from '../metrics';
import type { EndToEndClaims } from '../store/end-to-end-claims';
import type { GenerationTracker } from '../store/generations';
import type { ReadModelStore } from '../store/read-model-store';
import { deliveryAssignedWrites } from './delivery-assigned';
import { deliveryCompletedWrites } from './delivery-completed';
import { deliveryFailedWrites } from './delivery-failed';
import { etaUpdatedWrites } from './eta-updated';
import { inventoryRejectedWrites } from './inventory-rejected';
import { inventoryReleasedWrites } from './inventory-released';
import { inventoryReservedWrites } from './inventory-reserved';
import { orderCancelledWrites } from './order-cancelled';
import { orderCreatedWrites } from './order-created';
import { paymentAuthorizedWrites } from './payment-authorized';
import { paymentFailedWrites } from './payment-failed';
import { paymentRefundedWrites } from './payment-refunded';

/** The read-model upserts for one event: each event type writes only its own columns. Pure. */
export function writesFor(event: AnyEvent): ReadModelWrite[] {
  switch (event.eventType) {
    case 'order.created':
      return orderCreatedWrites(event);
    case 'order.cancelled':
      return orderCancelledWrites(event);
    case 'inventory.reserved':
      return inventoryReservedWrites(event);
    case 'inventory.rejected':
      return inventoryRejectedWrites(event);
    case 'inventory.released':
      return inventoryReleasedWrites(event);
    case 'payment.authorized':
      return paymentAuthorizedWrites(event);
    case 'payment.failed':
      return paymentFailedWrites(event);
    case 'payment.refunded':
      return paymentRefundedWrites(event);
    case 'delivery.assigned':
      return deliveryAssignedWrites(event);
    case 'eta.updated':
      return etaUpdatedWrites(event);
    case 'delivery.failed':
      return deliveryFailedWrites(event);
    case 'delivery.completed':
      return deliveryCompletedWrites(event);
    default:
      return assertNever(event);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled event type: ${JSON.stringify(value)}`);
}

export interface ReadModelHandlerDeps {
  store: ReadModelStore;
  generations: GenerationTracker;
  changes: OrderChanges;
  metrics: QueryMetrics;
  claims: EndToEndClaims;
  logger: Logger;
}

/**
 * The live consumer's handler. No inbox: every write is an idempotent, order-independent upsert, so
 * a redelivered event rewrites the same cells. Any failure is transient (Cassandra) and retried by
 * the runner; the offset is committed only after every target generation has the event (and the
 * order's end-to-end latency, if this apply decided it, has been observed).
 */
export function createReadModelHandler(deps: ReadModelHandlerDeps): (event: AnyEvent) => Promise<void> {
  return async (event) => {
    const writes = writesFor(event);
    const keyspaces = deps.generations.writeKeyspaces();
    await Promise.all(keyspaces.map((keyspace) => deps.store.apply(keyspace, writes)));
    // The view is up to date now: wake its live streams before the end-to-end claim, a Paxos round
    // that would otherwise hold back every terminal status by tens of milliseconds.
    const appliedAt = Date.now();
    deps.changes.notify(event.orderId);
    await observeEndToEndLatency(deps, event);
    deps.metrics.eventsApplied.inc({ event_type: event.eventType });
    deps.metrics.applyLag.observe(
      { event_type: event.eventType },
      Math.max(0, (appliedAt - Date.parse(event.occurredAt)) / 1000),
    );
  };
}

/**
 * `order_end_to_end_latency_seconds`, once per order. After the write, re-read the order's row: if
 * it is decided (terminal status, order.created applied), claim the order with an LWT and observe
 * only if the claim was applied. Why that is exactly once:
 * - Facts only accumulate and a decided row stays decided, so the first write after which the row
 *   is decided is followed by its own re-read, which sees it decided (reads and writes are
 *   LOCAL_QUORUM): at least one apply tries to claim — also when order.created comes last.
 * - Several applies may see the row decided (two deciding events applied at once, on one instance
 *   or several; a redelivery; a compensation after the outcome); the LWT lets one of them through.
 * - No before-read: a retry after a failure between the write and the claim (or a crash before the
 *   offset commit) finds the row decided and no claim, and observes; a before-read would call it
 *   "already terminal" and lose the observation.
 * - The claim lives in the control keyspace, so a rebuild's new generation does not re-observe,
 *   and in a table of its own rather than a flag column of `orders`: LWTs cannot take USING
 *   TIMESTAMP, and its cells never meet the event-timestamped (up to 10^16 µs) writes.
 * Rebuilds never call this (they write with `writesFor` directly). The rare miss left: a claim
 * applied whose response was lost (timeout), or a crash between the claim and the observe.
 */
async function observeEndToEndLatency(deps: ReadModelHandlerDeps, event: AnyEvent): Promise<void> {
  const stored = await deps.store.readOrder(deps.generations.readKeyspace(), event.orderId, false);
  if (!stored) return;
  let observation: ReturnType<typeof endToEndObservation>;
  try {
    observation = endToEndObservation(factsFromRow(event.orderId, stored.row), Date.now());
  } catch (err) {
    // A row that cannot be read back is GET's problem too; it must not stop applying events.
    if (!(err instanceof CorruptRowError)) throw err;
    deps.logger.warn(
      { err, orderId: event.orderId },
      'order row unreadable; end-to-end latency not observed',
    );
    return;
  }
  if (!observation) return;
  if (!(await deps.claims.claim(event.orderId, observation.status))) return;
  deps.metrics.endToEndLatency.observe({ status: observation.status }, observation.seconds);
}
