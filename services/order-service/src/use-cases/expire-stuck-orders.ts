import { randomUUID } from 'node:crypto';
import { enqueue, type Logger, withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import { buildCancellation, type CancellableStatus } from '../domain/cancellation';
import { DEADLINE_EXCEEDED, deadlineCancelRequest, decideDeadline } from '../domain/deadline';
import type { OrderMetrics } from '../metrics';
import { lockNextStuckOrder, markCancelled } from '../store/orders';

/** One pass cancels at most this many orders, so it stays short; the next pass takes the rest. */
const MAX_ORDERS_PER_PASS = 500;

export interface ExpireStuckOrdersDeps {
  pool: Pool;
  metrics: OrderMetrics;
  logger: Logger;
  /** SAGA_DEADLINE_MS: how long after creation an order may stay cancellable. */
  deadlineMs: number;
}

export interface ExpiredOrder {
  orderId: string;
  stuckIn: CancellableStatus;
}

/**
 * One pass of the saga deadline sweeper: every order still CREATED, INVENTORY_RESERVED or
 * PAYMENT_AUTHORIZED more than `deadlineMs` after its creation is cancelled by the system, each in a
 * transaction of its own exactly as a customer's cancel does it: under the order's row lock it is marked
 * cancelled (cancelledBy SYSTEM, reason DEADLINE_EXCEEDED; status CANCELLED by the contract's fold) and
 * order.cancelled, caused by its order.created, goes into the outbox. Every step then compensates.
 * Orders are claimed with SKIP LOCKED, so several instances sweeping at once cancel each order once.
 * Stops between orders once `signal` aborts. Returns the orders it cancelled.
 */
export async function expireStuckOrders(
  deps: ExpireStuckOrdersDeps,
  signal?: AbortSignal,
): Promise<ExpiredOrder[]> {
  const expired: ExpiredOrder[] = [];
  // Orders the query offered but the rule kept (it re-checks under the lock); not offered again.
  const kept: string[] = [];
  while (expired.length < MAX_ORDERS_PER_PASS && !signal?.aborted) {
    const outcome = await withTransaction(deps.pool, async (tx) => {
      const order = await lockNextStuckOrder(tx, deps.deadlineMs, kept);
      if (!order) return 'none' as const;
      const decision = decideDeadline(order, deps.deadlineMs);
      if (decision.kind === 'keep') {
        kept.push(order.orderId);
        return 'kept' as const;
      }
      const request = deadlineCancelRequest({ eventId: randomUUID(), at: new Date().toISOString() });
      const cancellation = buildCancellation(order, request);
      await markCancelled(tx, order.orderId, cancellation.progress, {
        ...cancellation.recorded,
        reason: DEADLINE_EXCEEDED,
      });
      await enqueue(tx, [cancellation.event]);
      return { orderId: order.orderId, stuckIn: decision.stuckIn, ageMs: order.ageMs };
    });
    if (outcome === 'none') break;
    if (outcome === 'kept') continue;
    deps.metrics.sagaDeadlineExpired.inc({ status: outcome.stuckIn });
    deps.logger.warn(
      {
        orderId: outcome.orderId,
        stuckIn: outcome.stuckIn,
        ageMs: Math.round(outcome.ageMs),
        deadlineMs: deps.deadlineMs,
      },
      'saga deadline exceeded: order cancelled by the system',
    );
    expired.push({ orderId: outcome.orderId, stuckIn: outcome.stuckIn });
  }
  return expired;
}
