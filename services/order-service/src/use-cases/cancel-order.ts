import { randomUUID } from 'node:crypto';
import { enqueue, NotFoundError, withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import {
  buildCancellation,
  type CancelledOrder,
  cancelledByFor,
  decideCancellation,
} from '../domain/cancellation';
import type { CancellationOutcome, OrderMetrics } from '../metrics';
import { lockOrder, markCancelled } from '../store/orders';
import type { Caller } from './caller';
import { OrderNotCancellableError } from './errors';

export interface CancelOrderDeps {
  pool: Pool;
  metrics: OrderMetrics;
}

export interface CancelOrderCommand {
  caller: Caller;
  orderId: string;
  reason?: string;
  traceparent?: string;
}

/**
 * Cancels an order that no driver has yet: in one transaction, under the order's row lock, the order
 * is marked cancelled (status CANCELLED by the contract's fold) and order.cancelled is enqueued, caused
 * by the order's order.created. Every step then compensates what it did. Cancelling again answers the
 * first cancellation again (202, no second event); a customer cancelling someone else's order gets 404,
 * so order ids do not leak.
 */
export async function cancelOrder(deps: CancelOrderDeps, cmd: CancelOrderCommand): Promise<CancelledOrder> {
  let outcome: CancellationOutcome = 'rejected';
  try {
    const response = await withTransaction(deps.pool, async (tx): Promise<CancelledOrder> => {
      const order = await lockOrder(tx, cmd.orderId);
      if (!order || (!cmd.caller.isAdmin && order.customerId !== cmd.caller.subject)) {
        outcome = 'not_found';
        throw new NotFoundError(`Order ${cmd.orderId} not found.`);
      }
      const decision = decideCancellation(order);
      if (decision.kind === 'too-late') {
        outcome = 'rejected';
        throw new OrderNotCancellableError(order.orderId, decision.status);
      }
      if (decision.kind === 'already-cancelled') {
        outcome = 'already_cancelled';
        const { cancelledBy, cancelledAt } = decision.cancellation;
        return { orderId: order.orderId, status: 'CANCELLED', cancelledBy, cancelledAt };
      }
      const cancellation = buildCancellation(order, {
        cancelledBy: cancelledByFor(cmd.caller, order.customerId),
        actorId: cmd.caller.subject,
        eventId: randomUUID(),
        at: new Date().toISOString(),
        ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
      });
      await markCancelled(tx, order.orderId, cancellation.progress, {
        ...cancellation.recorded,
        ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
      });
      await enqueue(tx, [cancellation.event], cmd.traceparent ? { traceparent: cmd.traceparent } : {});
      outcome = 'accepted';
      const { cancelledBy, cancelledAt } = cancellation.recorded;
      return { orderId: order.orderId, status: 'CANCELLED', cancelledBy, cancelledAt };
    });
    deps.metrics.cancellations.inc({ outcome });
    return response;
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof OrderNotCancellableError) {
      deps.metrics.cancellations.inc({ outcome });
    }
    throw err;
  }
}
