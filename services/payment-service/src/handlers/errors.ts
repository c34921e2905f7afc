import { RetryableError } from '@dispatch/platform';

/**
 * Transient conditions: the handler throws them so the consumer runner retries the message with
 * backoff for as long as it takes (never dropped, never dead-lettered, never busy-looped).
 */

/** Another worker holds the order's Redis lock (layer 1). */
export class OrderBusyError extends RetryableError {
  constructor(readonly orderId: string) {
    super(`order ${orderId} is being processed by another worker (redis lock held); retrying later`);
    this.name = 'OrderBusyError';
  }
}

/** The order's charge or refund is PENDING under another worker's live lease (Postgres). */
export class PaymentInFlightError extends RetryableError {
  constructor(
    readonly orderId: string,
    readonly work: 'charge' | 'refund',
  ) {
    super(`the ${work} of order ${orderId} is in flight in another worker; retrying later`);
    this.name = 'PaymentInFlightError';
  }
}

/** A refund could not reach the gateway; it stays PENDING and is retried (money is owed back). */
export class RefundDeferredError extends RetryableError {
  constructor(
    readonly orderId: string,
    detail: string,
  ) {
    super(`refund of order ${orderId} deferred: ${detail}`);
    this.name = 'RefundDeferredError';
  }
}
