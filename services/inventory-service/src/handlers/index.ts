import { type AnyEvent, consumedTopics, type EventType } from '@dispatch/contracts';
import { type BatchHandler, type EventStep, pgBatchHandler, stepsByEventType } from '@dispatch/platform';
import type { PoolClient } from 'pg';
import { lockItems } from '../store/catalogue-store';
import { itemsOfOrders, lockOrders } from '../store/reservation-store';
import { type HandlerDeps, INBOX_CONSUMER, type StepDeps } from './context';
import { handleDeliveryCompleted } from './delivery-completed';
import { handleDeliveryFailed } from './delivery-failed';
import { handleOrderCancelled } from './order-cancelled';
import { handleOrderCreated } from './order-created';
import { handlePaymentFailed } from './payment-failed';
import { handlePaymentRefunded } from './payment-refunded';

/** The topics whose events inventory reacts to (its own raw.inventory-events is not among them). */
export const CONSUMED_TOPICS = [...consumedTopics('inventory-service')];

/** The event types inventory acts on; the consumer acknowledges every other one untouched. */
export const HANDLED_EVENT_TYPES = [
  'order.created',
  'order.cancelled',
  'payment.failed',
  'payment.refunded',
  'delivery.failed',
  'delivery.completed',
] as const satisfies readonly EventType[];

/**
 * One transaction per fetched batch (pgBatchHandler: inbox for the whole batch, only first
 * deliveries run their step, one outbox insert), with every lock the steps take taken first by
 * lockBatch.
 */
export function createBatchHandler(deps: HandlerDeps): BatchHandler {
  return pgBatchHandler({
    pool: deps.pool,
    inboxConsumer: INBOX_CONSUMER,
    prepare: lockBatch,
    step: createStep(deps),
  });
}

/** Routes each event to its step; types inventory does not act on change nothing. */
export function createStep(deps: StepDeps): EventStep {
  return stepsByEventType({
    'order.created': (step) => handleOrderCreated(deps, step),
    'order.cancelled': (step) => handleOrderCancelled(deps, step),
    'payment.failed': (step) => handlePaymentFailed(deps, step),
    'payment.refunded': (step) => handlePaymentRefunded(deps, step),
    'delivery.failed': (step) => handleDeliveryFailed(deps, step),
    'delivery.completed': (step) => handleDeliveryCompleted(deps, step),
  });
}

/**
 * Takes, before any step runs, every lock the batch's steps will take, in one fixed order: the
 * orders' locks (by lock key), then the catalogue rows (by itemId) that its order.created events ask
 * for and that its releases and sales will move (the lines the orders hold, read once their locks are
 * held, so they cannot change underneath). A batch holds several orders and items until it commits,
 * and the batches of two partitions, or of two topics holding events of the same orders, run at
 * once: taking the locks event by event, in offset order, could make two batches each wait for the
 * other. With every lock taken here, in the order every other locker uses too, the steps never wait.
 */
export async function lockBatch(tx: PoolClient, events: readonly AnyEvent[]): Promise<void> {
  await lockOrders(
    tx,
    events.map((e) => e.orderId),
  );
  const requested = events.flatMap((e) =>
    e.eventType === 'order.created' ? e.payload.items.map((line) => line.itemId) : [],
  );
  const held = await itemsOfOrders(
    tx,
    events.filter((e) => e.eventType !== 'order.created').map((e) => e.orderId),
  );
  await lockItems(tx, [...requested, ...held]);
}
