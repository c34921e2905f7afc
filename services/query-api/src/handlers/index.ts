import { type AnyEvent, consumedTopics } from '@dispatch/contracts';
import type { Logger } from '@dispatch/platform';
import type { OrderChanges } from '../changes';
import { forEachConcurrently } from '../concurrency';
import { type EndToEndObservation, endToEndObservation, mayDecide } from '../domain/end-to-end';
import { CorruptRowError, factsFromRow } from '../domain/facts-from-row';
import { groupByOrder } from '../domain/order-batches';
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

/** What query-api reads: all four raw topics. */
export const CONSUMED_TOPICS = [...consumedTopics('query-api')];

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
  /** Orders of one batch applied at the same time. */
  applyConcurrency: number;
}

/** Applies a batch of events (any orders, any order, duplicates allowed); resolves once all are durable. */
export type ReadModelHandler = (events: readonly AnyEvent[]) => Promise<void>;

/**
 * The live consumer's handler, for one partition's fetched batch. No inbox: every write is an
 * idempotent, order-independent upsert, so a redelivered event rewrites the same cells. The batch's
 * events are grouped by order; each order's writes go to every target generation in two
 * single-partition rounds (ReadModelStore.applyEvents), up to `applyConcurrency` orders at once, and
 * the order's live streams are woken as soon as they are written. Then the end-to-end latency of the
 * orders this batch decided is observed. Any failure is transient (Cassandra) and thrown: the runner
 * retries the events one at a time, and commits the offset only after every target generation has
 * them (and the decided orders are claimed).
 */
export function createReadModelHandler(deps: ReadModelHandlerDeps): ReadModelHandler {
  return async (events) => {
    if (events.length === 0) return;
    const keyspaces = deps.generations.writeKeyspaces();
    const appliedAt = new Map<string, number>();
    const decided: Decided[] = [];
    await forEachConcurrently([...groupByOrder(events)], deps.applyConcurrency, async ([orderId, own]) => {
      const writes = own.map(writesFor);
      await Promise.all(keyspaces.map((keyspace) => deps.store.applyEvents(keyspace, writes)));
      appliedAt.set(orderId, Date.now());
      // The view is up to date now: wake its live streams before the end-to-end decision.
      deps.changes.notify(orderId);
      if (!mayDecide(own)) return;
      const observation = await decision(deps, orderId);
      if (observation) decided.push({ orderId, ...observation });
    });
    const claimed = await deps.claims.claimAll(decided);
    for (const { orderId, status, seconds } of decided) {
      if (claimed.has(orderId)) deps.metrics.endToEndLatency.observe({ status }, seconds);
    }
    for (const event of events) {
      deps.metrics.eventsApplied.inc({ event_type: event.eventType });
      const at = appliedAt.get(event.orderId) ?? Date.now();
      deps.metrics.applyLag.observe(
        { event_type: event.eventType },
        Math.max(0, (at - Date.parse(event.occurredAt)) / 1000),
      );
    }
  };
}

interface Decided extends EndToEndObservation {
  orderId: string;
}

/**
 * `order_end_to_end_latency_seconds`, once per order, without a lightweight transaction per order.
 * - Which orders may this batch have decided? Only those with an order.created or a terminal event
 *   in it (`mayDecide`): no other event can turn an undecided order decided. For those, and only
 *   those, the order's row is read once (active generation, after the batch's writes, LOCAL_QUORUM),
 *   and it is decided if its derived status is terminal and order.created has been applied
 *   (`endToEndObservation`). A reservation, an ETA or a compensation costs no read.
 * - Facts only accumulate and a decided row stays decided, so the batch whose writes decided the
 *   order reads it decided (also when order.created comes last); later batches with a deciding
 *   event (a redelivery, a second terminal event) read it decided too.
 * - All of them claim it (`EndToEndClaims.claimAll`, one read and one write of claim rows for the
 *   whole batch): only an order without a claim row is claimed, and only a claimed order is
 *   observed, after its claim row is written. So a redelivered or retried batch, and any later one,
 *   does not observe again, also after a crash; concurrent batches on one instance leave an order
 *   to the one claiming it. What remains is two instances claiming one order at the same moment,
 *   see docs/query-api.md.
 * - No "was it decided before?" read: a retry after a failure between the write and the claim
 *   finds the row decided and no claim, and observes.
 * - The claim lives in the control keyspace, so a rebuild's new generation does not re-observe.
 * Rebuilds never call this (they write with `writesFor` directly).
 */
async function decision(
  deps: ReadModelHandlerDeps,
  orderId: string,
): Promise<EndToEndObservation | undefined> {
  const stored = await deps.store.readOrder(deps.generations.readKeyspace(), orderId, false);
  if (!stored) return undefined;
  try {
    return endToEndObservation(factsFromRow(orderId, stored.row), Date.now());
  } catch (err) {
    // A row that cannot be read back is GET's problem too; it must not stop applying events.
    if (!(err instanceof CorruptRowError)) throw err;
    deps.logger.warn({ err, orderId }, 'order row unreadable; end-to-end latency not observed');
    return undefined;
  }
}
