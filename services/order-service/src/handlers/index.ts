import { consumedTopics } from '@dispatch/contracts';
import { type BatchHandler, pgBatchHandler } from '@dispatch/platform';
import type { Pool } from 'pg';
import { FOLLOWED_EVENT_TYPES, trackProgress } from './track-progress';

/** What order-service reads: the inventory, payment and delivery topics. */
export const CONSUMED_TOPICS = [...consumedTopics('order-service')];

/** The event types that move an order's status; the consumer acknowledges every other one untouched. */
export const HANDLED_EVENT_TYPES: readonly string[] = FOLLOWED_EVENT_TYPES;

export interface HandlerDeps {
  pool: Pool;
  /** The inbox's consumer name (the service name). */
  consumer: string;
}

/**
 * One transaction per fetched batch: the events that move an order's status are folded into their
 * orders by trackProgress (see FOLLOWED_EVENT_TYPES for which and why), in three statements whatever
 * the batch size; the consumer acknowledges anything else untouched. The batch's orders are locked
 * together, in orderId order: batches of different topics hold events of the same orders and run at
 * once, and locking as the events come would deadlock them.
 */
export function createBatchHandler(deps: HandlerDeps): BatchHandler {
  return pgBatchHandler({
    pool: deps.pool,
    inboxConsumer: deps.consumer,
    prepare: (tx, events) => trackProgress(tx, events),
  });
}
