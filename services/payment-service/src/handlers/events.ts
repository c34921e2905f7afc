import { type AnyEvent, createEvent } from '@dispatch/contracts';
import type { PaymentRow } from '../store/payment-store';

export const PRODUCER = 'payment-service';

/** payment.authorized or payment.failed for a decided payment; it answers the inventory.reserved it was asked by. */
export function chargeDecidedEvent(payment: PaymentRow): AnyEvent {
  const base = {
    orderId: payment.orderId,
    correlationId: payment.correlationId,
    causationId: payment.chargeEventId,
    producer: PRODUCER,
  };
  const money = {
    paymentId: payment.paymentId,
    orderId: payment.orderId,
    amount: payment.amount,
    currency: payment.currency,
  };
  if (payment.status === 'AUTHORIZED') {
    return createEvent({
      ...base,
      eventType: 'payment.authorized',
      payload: {
        ...money,
        status: 'AUTHORIZED',
        ...(payment.gatewayReference ? { gatewayReference: payment.gatewayReference } : {}),
      },
    });
  }
  if (payment.status === 'FAILED' && payment.failureReason) {
    return createEvent({
      ...base,
      eventType: 'payment.failed',
      payload: { ...money, status: 'FAILED', failureReason: payment.failureReason },
    });
  }
  throw new Error(`payment ${payment.paymentId} is ${payment.status}: no decision to announce`);
}

/** payment.refunded, caused by the order.cancelled / delivery.failed that asked for the refund. */
export function refundedEvent(payment: PaymentRow): AnyEvent {
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
