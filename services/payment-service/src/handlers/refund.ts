import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent } from '@dispatch/contracts';
import { enqueueEntries, observeStageLatency, withTransaction } from '@dispatch/platform';
import type { CloseReason, OrderFacts } from '../domain/payment';
import { refundIdempotencyKey } from '../gateway/gateway';
import { lockOrder } from '../store/order-store';
import { completeRefund, type PaymentRow, releaseLease } from '../store/payment-store';
import { type OrderContext, type PaymentDeps, PRODUCER, traceHeaders } from './context';
import { RefundDeferredError } from './errors';

/**
 * The compensation: an AUTHORIZED payment of an order that is over (order.cancelled, delivery.failed)
 * is refunded, once. Like the charge it takes two transactions around the gateway call: the deciding
 * one marks the refund PENDING, leased to this worker (`startRefund` with `newRefund`); `driveRefund`
 * calls the gateway and completes it with payment.refunded.
 */

/** A new refund, leased to `owner`, caused by the event that closed the order. */
export function newRefund(
  reason: CloseReason,
  close: NonNullable<OrderFacts['close']>,
  owner: string,
  leaseMs: number,
) {
  return { refundId: randomUUID(), reason, causeEventId: close.eventId, leaseOwner: owner, leaseMs };
}

/**
 * Refunds an AUTHORIZED payment whose refund this worker leased. The refund's idempotency key is
 * derived from the orderId, so there is one refund per order however often this runs. A gateway that
 * cannot be reached leaves the refund PENDING and throws, so the message (or the sweeper) retries:
 * money owed back is never given up on.
 */
export async function driveRefund(
  deps: PaymentDeps,
  payment: PaymentRow,
  owner: string,
  context: OrderContext,
): Promise<'refunded' | 'already_completed'> {
  const { orderId } = payment;
  const log = context.logger;
  if (!payment.gatewayReference)
    throw new Error(`authorized payment ${payment.paymentId} has no gateway reference`);
  const answer = await deps.gateway.refund({
    idempotencyKey: refundIdempotencyKey(orderId),
    orderId,
    chargeReference: payment.gatewayReference,
    amount: payment.amount,
    currency: payment.currency,
  });
  if (answer.outcome === 'unavailable') {
    await releaseLease(deps.pool, orderId, owner);
    throw new RefundDeferredError(orderId, answer.detail);
  }
  const { refunded, order } = await withTransaction(deps.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    const row = await completeRefund(tx, orderId, answer.result.reference);
    if (row) await enqueueEntries(tx, [{ event: refundedEvent(row), headers: traceHeaders(context) }]);
    return { refunded: row, order };
  });
  if (!refunded) {
    log.info('refund already completed by another worker');
    return 'already_completed';
  }
  deps.metrics.refunds.inc({ reason: refunded.refundReason ?? 'UNKNOWN' });
  // From the occurredAt of the order.cancelled / delivery.failed that closed the order to this commit.
  if (order?.closeRequestedAt)
    observeStageLatency(deps.stageLatency, 'payment.refunded', order.closeRequestedAt);
  log.info({ paymentId: refunded.paymentId, refundReason: refunded.refundReason }, 'payment refunded');
  return 'refunded';
}

/** payment.refunded, caused by the order.cancelled / delivery.failed that asked for the refund. */
function refundedEvent(payment: PaymentRow): AnyEvent {
  if (
    payment.refundStatus !== 'REFUNDED' ||
    !payment.refundId ||
    !payment.refundReason ||
    !payment.refundEventId
  ) {
    throw new Error(`payment ${payment.paymentId} is not refunded`);
  }
  return createEvent({
    eventType: 'payment.refunded',
    orderId: payment.orderId,
    correlationId: payment.correlationId,
    causationId: payment.refundEventId,
    producer: PRODUCER,
    payload: {
      paymentId: payment.paymentId,
      orderId: payment.orderId,
      amount: payment.amount,
      currency: payment.currency,
      status: 'REFUNDED',
      refundId: payment.refundId,
      reason: payment.refundReason,
    },
  });
}
