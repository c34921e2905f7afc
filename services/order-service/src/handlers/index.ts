import { type BatchHandler, pgBatchHandler } from '@dispatch/platform';
import type { Pool } from 'pg';
import { lockOrders } from '../store/orders';
import { FOLLOWED_EVENT_TYPES, isFollowedEvent, trackProgress } from './track-progress';

export { FOLLOWED_EVENT_TYPES } from './track-progress';

export interface HandlerDeps {
  pool: Pool;
  /** The inbox's consumer name (the service name). */
  consumer: string;
}

/**
 * One transaction per fetched batch: every event that moves an order's status goes to trackProgress
 * (see FOLLOWED_EVENT_TYPES for which and why). The consumer acknowledges anything else untouched.
 * The batch's orders are locked first, in orderId order: batches of different topics hold events of
 * the same orders and run at once, and locking as the events come would deadlock them.
 */
export function createOrderEventHandler(deps: HandlerDeps): BatchHandler {
  return pgBatchHandler({
    pool: deps.pool,
    inboxConsumer: deps.consumer,
    prepare: (tx, events) => lockOrders(tx, [...new Set(events.map((e) => e.orderId))]),
    step: async (step) => {
      const { event } = step;
      if (isFollowedEvent(event)) await trackProgress({ ...step, event });
    },
  });
}

export const ORDER_EVENT_TYPES: readonly string[] = FOLLOWED_EVENT_TYPES;
