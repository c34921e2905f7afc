import type { Currency, Money, REFUND_REASONS } from '@dispatch/contracts';

/**
 * payment-service's decisions, pure. Every handler merges its event's facts about an order, then asks
 * `nextStep` what is owed, given the facts and the order's payment row (if any). Because the answer
 * depends only on the merged facts and the row, not on which event arrived last, events of one order
 * can arrive in any order and any number of times and the outcome is the same.
 */

export type PaymentStatus = 'PENDING' | 'AUTHORIZED' | 'FAILED';
export type RefundStatus = 'PENDING' | 'REFUNDED';
/** Why an order is over: order.cancelled or delivery.failed. Also the refund reason. */
export type CloseReason = (typeof REFUND_REASONS)[number];

/** payment.failed reasons payment-service emits without calling the gateway. */
export type NoChargeReason = CloseReason | 'invalid_payment_method';

/** What payment knows about an order, merged from order.created, inventory.reserved, order.cancelled and delivery.failed. */
export interface OrderFacts {
  /** order.created was handled (its payment method is known). */
  orderSeen: boolean;
  /** The PSP token; absent when order.created had none (or once the payment is decided). */
  cardToken: string | null;
  /** From inventory.reserved: the charge inventory asks for. */
  chargeRequest: {
    eventId: string;
    correlationId: string;
    amount: Money;
    currency: Currency;
    /** The request's occurredAt. */
    requestedAt: Date;
  } | null;
  /** The first of order.cancelled / delivery.failed. */
  close: { reason: CloseReason; eventId: string } | null;
}

export interface PaymentSnapshot {
  status: PaymentStatus;
  refundStatus: RefundStatus | null;
}

export type NextStep =
  /** Nothing asked for yet (no inventory.reserved), or nothing owed. */
  | { kind: 'nothing' }
  /** inventory.reserved is known but order.created is not: the charge waits, stored, for it. */
  | { kind: 'wait-for-order' }
  /** Answer the charge request with payment.failed without calling the gateway. */
  | { kind: 'fail-without-charge'; reason: NoChargeReason }
  /** Insert the payment as PENDING (unique orderId), commit, then call the gateway. */
  | { kind: 'start-charge' }
  /** A PENDING payment exists: its gateway call is in flight or was abandoned (crash); drive it on. */
  | { kind: 'continue-charge' }
  /** Authorized and the order is over: mark the refund PENDING, commit, then call the gateway. */
  | { kind: 'start-refund'; reason: CloseReason }
  /** A refund is PENDING: in flight or abandoned; drive it on. */
  | { kind: 'continue-refund' }
  /** The payment is decided and nothing more is owed. */
  | { kind: 'settled' };

export function nextStep(facts: OrderFacts, payment: PaymentSnapshot | null): NextStep {
  if (!payment) {
    if (!facts.chargeRequest) return { kind: 'nothing' };
    // Cancelled (or failed delivery) before any charge: never charge; answer the request.
    if (facts.close) return { kind: 'fail-without-charge', reason: facts.close.reason };
    if (!facts.orderSeen) return { kind: 'wait-for-order' };
    if (!facts.cardToken) return { kind: 'fail-without-charge', reason: 'invalid_payment_method' };
    return { kind: 'start-charge' };
  }
  switch (payment.status) {
    case 'PENDING':
      return { kind: 'continue-charge' };
    case 'FAILED':
      return { kind: 'settled' };
    case 'AUTHORIZED':
      if (payment.refundStatus === 'REFUNDED') return { kind: 'settled' };
      if (payment.refundStatus === 'PENDING') return { kind: 'continue-refund' };
      if (facts.close) return { kind: 'start-refund', reason: facts.close.reason };
      return { kind: 'settled' };
  }
}

/** The gateway's answer to a charge, as the resilient gateway reports it. */
export type ChargeAnswer =
  | { outcome: 'approved'; reference: string }
  | { outcome: 'declined'; reason: string }
  | { outcome: 'unavailable'; reason: string };

export type ChargeDecision =
  | { status: 'AUTHORIZED'; gatewayReference: string }
  | { status: 'FAILED'; failureReason: string };

/**
 * PENDING → AUTHORIZED or FAILED. An unavailable gateway (timeouts after every retry, errors, open
 * circuit) fails the payment so inventory is released at once rather than held for an unknown time.
 */
export function decideCharge(answer: ChargeAnswer): ChargeDecision {
  switch (answer.outcome) {
    case 'approved':
      return { status: 'AUTHORIZED', gatewayReference: answer.reference };
    case 'declined':
    case 'unavailable':
      return { status: 'FAILED', failureReason: answer.reason };
  }
}
