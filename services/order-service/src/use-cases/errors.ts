import type { OrderStatus } from '@dispatch/contracts';
import { DomainError } from '@dispatch/platform';

/** The same Idempotency-Key was sent with a different body (Stripe: the key is bound to its request). */
export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(
      422,
      'idempotency-key-reused',
      'Idempotency-Key reused',
      'This Idempotency-Key was already used with a different request body; use a new key for a new order.',
    );
  }
}

/** A request with the same Idempotency-Key is still being processed. */
export class IdempotencyKeyInFlightError extends DomainError {
  constructor(retryAfterSeconds: number, detail?: string) {
    super(
      409,
      'idempotency-key-in-flight',
      'Request in progress',
      detail ?? 'A request with this Idempotency-Key is still in progress; retry later to get its response.',
      { retryAfterSeconds },
    );
  }
}

/** A driver is assigned or the saga has ended: the order can no longer be cancelled. */
export class OrderNotCancellableError extends DomainError {
  constructor(orderId: string, status: OrderStatus) {
    super(
      409,
      'order-not-cancellable',
      'Order cannot be cancelled',
      `Order ${orderId} is ${status}; an order can be cancelled only before a driver is assigned.`,
      { orderStatus: status },
    );
  }
}

/** 415: the body is not JSON. */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(contentType: string | undefined) {
    super(
      415,
      'unsupported-media-type',
      'Unsupported media type',
      `Send the body as application/json${contentType ? `, not ${contentType}` : ''}.`,
    );
  }
}
