import type { Currency, Money } from '@dispatch/contracts';

/**
 * The payment gateway (PSP) as payment-service sees it. An adapter for a real provider implements
 * this; the built-in one is `SimulatedGateway`.
 *
 * Contract every adapter must keep:
 * - `idempotencyKey` is passed to the provider; the same key always yields the same result and never a
 *   second charge or refund, so a call may be repeated after a timeout, a crash or by another worker.
 * - A business answer (approved, declined) is a return value. A fault (provider unreachable, 5xx,
 *   rate-limited) is a thrown `GatewayUnavailableError`: those are retried and count for the breaker.
 * - `signal` aborts the call (timeouts); an aborted call must not charge later on its own.
 */
export interface PaymentGateway {
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult>;
  refund(request: RefundRequest, signal: AbortSignal): Promise<RefundResult>;
}

export interface ChargeRequest {
  idempotencyKey: string;
  orderId: string;
  amount: Money;
  currency: Currency;
  /** The PSP token from order.created's payment method. */
  cardToken: string;
}

/** Decline codes are the contract's payment.failed reason codes. */
export type DeclineReason =
  | 'card_declined'
  | 'insufficient_funds'
  | 'invalid_payment_method'
  | 'fraud_suspected';

export type ChargeResult =
  | { outcome: 'approved'; reference: string }
  | { outcome: 'declined'; reason: DeclineReason };

export interface RefundRequest {
  idempotencyKey: string;
  orderId: string;
  /** The gateway's reference of the authorisation being refunded. */
  chargeReference: string;
  amount: Money;
  currency: Currency;
}

export interface RefundResult {
  reference: string;
}

/** The gateway could not give an answer (transient): retried, and counted by the circuit breaker. */
export class GatewayUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayUnavailableError';
  }
}

/** The gateway refused a request as malformed (e.g. refund of an unknown charge): never retried. */
export class GatewayRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayRejectedError';
  }
}

/** Idempotency keys derived from the orderId: one charge and one refund per order, ever. */
export function chargeIdempotencyKey(orderId: string): string {
  return `charge:${orderId}`;
}

export function refundIdempotencyKey(orderId: string): string {
  return `refund:${orderId}`;
}
