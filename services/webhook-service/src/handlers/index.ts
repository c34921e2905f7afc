import { consumedTopics } from '@dispatch/contracts';
import { type BatchHandler, type Logger, pgBatchHandler, withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import type { WebhookMetrics } from '../metrics';
import { listEnabledEndpoints } from '../store/endpoints';
import { admitEvents, lockOrders, releaseStale, staleHeldOrders } from '../store/events';

export const CONSUMED_TOPICS = [...consumedTopics('webhook-service')];

/**
 * Every order event of a batch, in one transaction with the inbox: recorded, then released to the
 * endpoints that select it once its cause has been released (so an endpoint never gets an effect
 * before its cause, whichever topic was read first), else held. A handful of statements per batch,
 * whatever its size. `onQueued` runs after commit when deliveries may have been queued (wakes the
 * dispatcher).
 */
export function createBatchHandler(deps: {
  pool: Pool;
  metrics: WebhookMetrics;
  onQueued?: () => void;
}): BatchHandler {
  return pgBatchHandler({
    pool: deps.pool,
    inboxConsumer: 'webhook-service',
    prepare: async (tx, events, batch) => {
      await lockOrders(
        tx,
        events.map((e) => e.orderId),
      );
      // Read after the locks: a registration that committed before is seen.
      const n = await admitEvents(tx, events, await listEnabledEndpoints(tx));
      if (n > 0) {
        batch.afterCommit(() => {
          deps.metrics.eventsReleased.inc({ how: 'causal' }, n);
          deps.onQueued?.();
        });
      }
    },
  });
}

/**
 * The sweep for events whose cause never arrived (dead-lettered, say): after `holdMaxMs` they are
 * released anyway, one order per transaction under the order's lock.
 */
export async function releaseStaleEvents(deps: {
  pool: Pool;
  metrics: WebhookMetrics;
  logger: Logger;
  holdMaxMs: number;
  onQueued?: () => void;
}): Promise<number> {
  const orders = await withTransaction(deps.pool, (tx) => staleHeldOrders(tx, deps.holdMaxMs, 100));
  let total = 0;
  for (const orderId of orders) {
    const n = await withTransaction(deps.pool, async (tx) => {
      await lockOrders(tx, [orderId]);
      return releaseStale(tx, orderId, deps.holdMaxMs, await listEnabledEndpoints(tx));
    });
    if (n > 0) {
      deps.logger.info({ orderId, released: n }, 'released webhook events whose cause never arrived');
      deps.metrics.eventsReleased.inc({ how: 'timeout' }, n);
      total += n;
    }
  }
  if (total > 0) deps.onQueued?.();
  return total;
}
