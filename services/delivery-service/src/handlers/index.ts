import { type AnyEvent, consumedTopics } from '@dispatch/contracts';
import { type BatchHandler, type EventStep, pgBatchHandler, stepsByEventType } from '@dispatch/platform';
import type { PoolClient } from 'pg';
import { isActive } from '../domain/delivery';
import { lockDeliveriesOf } from '../store/deliveries';
import { lockDrivers } from '../store/drivers';
import { lockOrders } from '../store/orders';
import { CONSUMER, type HandlerDeps, type StepDeps } from './deps';
import { handleOrderCancelled } from './order-cancelled';
import { handleOrderCreated } from './order-created';
import { handlePaymentAuthorized } from './payment-authorized';

export { HANDLED_EVENT_TYPES, type HandlerDeps, type StepDeps } from './deps';

/** What delivery-service reads: addresses and cancels from orders, the go signal from payments. */
export const CONSUMED_TOPICS = [...consumedTopics('delivery-service')];

/**
 * One transaction per fetched batch (pgBatchHandler: inbox for the whole batch, only first
 * deliveries run their step, one outbox insert), with the locks its steps could wait for taken
 * first by lockBatch.
 */
export function createBatchHandler(deps: HandlerDeps): BatchHandler {
  return pgBatchHandler({
    pool: deps.pool,
    inboxConsumer: CONSUMER,
    prepare: (tx, events) => lockBatch(tx, events, deps.clock.now()),
    step: createStep(deps),
  });
}

/** Each event to its step; every other type on these topics is none of our business. */
export function createStep(deps: StepDeps): EventStep {
  return stepsByEventType({
    'order.created': (step) => handleOrderCreated(deps, step),
    'order.cancelled': (step) => handleOrderCancelled(deps, step),
    'payment.authorized': (step) => handlePaymentAuthorized(deps, step),
  });
}

/**
 * Takes, before any step runs, every lock a step of the batch could have to wait for, in one fixed
 * order: the batch's orders (created if missing), their deliveries, then the drivers its
 * order.cancelled events will free, each by id. A batch holds several orders until it commits, and
 * batches run at once: partitions of one topic, and an order batch next to a payment batch holding
 * the same orders in another order. Taking the locks event by event could make two batches each wait
 * for the other; taken here, in the order every other locker follows (the complete request: delivery
 * then driver; the seed: drivers by id), they cannot. The steps then never wait: a free driver is
 * taken with SKIP LOCKED (a driver another transaction holds is passed over, never waited for), and
 * the transaction sees its own markDriverBusy, so no driver is given twice, within a batch or across
 * batches.
 */
export async function lockBatch(tx: PoolClient, events: readonly AnyEvent[], now: Date): Promise<void> {
  const orderIds = events.map((e) => e.orderId);
  await lockOrders(tx, orderIds, now);
  const deliveries = await lockDeliveriesOf(tx, orderIds);
  const cancelled = new Set(events.filter((e) => e.eventType === 'order.cancelled').map((e) => e.orderId));
  await lockDrivers(
    tx,
    deliveries.flatMap((d) =>
      cancelled.has(d.orderId) && isActive(d.status) && d.driverId ? [d.driverId] : [],
    ),
  );
}
