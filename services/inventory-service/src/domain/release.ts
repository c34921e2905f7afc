import {
  type Currency,
  type EventEnvelope,
  type Money,
  type PricedLine,
  totalOfLines,
} from '@dispatch/contracts';
import type { OrderStockRecord, ReleaseReason } from './types';

/** The consumed events that make inventory give its reservation back. */
export type ReleaseTrigger =
  | EventEnvelope<'payment.failed'>
  | EventEnvelope<'payment.refunded'>
  | EventEnvelope<'delivery.failed'>
  | EventEnvelope<'order.cancelled'>;

/** The release reason each trigger stands for. */
export function releaseReasonOf(event: ReleaseTrigger): ReleaseReason {
  switch (event.eventType) {
    case 'payment.failed':
      return 'PAYMENT_FAILED';
    case 'payment.refunded':
      // DELIVERY_FAILED or ORDER_CANCELLED: the refund names what undid the order.
      return event.payload.reason;
    case 'delivery.failed':
      return 'DELIVERY_FAILED';
    case 'order.cancelled':
      return 'ORDER_CANCELLED';
  }
}

export type ReleaseDecision =
  /** Return the held lines to `available` and announce it (inventory.released). */
  | {
      kind: 'release';
      lines: PricedLine[];
      amount: Money;
      reason: ReleaseReason;
      customerId: string;
      currency: Currency;
    }
  /**
   * The release overtook the reservation: remember it, so the order.created that arrives later
   * reserves nothing. Announced then, when the order's customer and currency are known.
   */
  | { kind: 'tombstone'; reason: ReleaseReason }
  /** Nothing is held: already released, never reserved (rejected), or already sold. */
  | { kind: 'ignore'; why: string };

/**
 * What a compensation does to an order's stock. Several compensations arrive for one failure (a
 * failed delivery brings delivery.failed and payment.refunded; a cancellation order.cancelled and
 * payment.refunded), in any order and possibly before the reservation itself; only the first one
 * that finds stock held releases it, so the stock is released once.
 */
export function decideRelease(
  existing: OrderStockRecord | undefined,
  reason: ReleaseReason,
): ReleaseDecision {
  if (!existing) return { kind: 'tombstone', reason };
  if (!existing.orderSeen) return { kind: 'ignore', why: 'already released (before the order arrived)' };
  switch (existing.status) {
    case 'RESERVED':
      return {
        kind: 'release',
        lines: existing.lines,
        amount: totalOfLines(existing.lines),
        reason,
        customerId: existing.customerId,
        currency: existing.currency,
      };
    case 'RELEASED':
      return { kind: 'ignore', why: 'already released' };
    case 'REJECTED':
      return { kind: 'ignore', why: 'nothing was reserved (the order was rejected)' };
    case 'SOLD':
      return { kind: 'ignore', why: 'already sold (delivered), nothing to give back' };
  }
}

export type CompletionDecision =
  /** The held units leave `reserved` for good; nothing returns to `available`. */
  | { kind: 'sell'; lines: PricedLine[] }
  /**
   * No record of the order yet. Delivery only follows a payment that followed our own
   * inventory.reserved, so the reservation must be on its way (e.g. the topics are being replayed):
   * worth a retry, and the DLQ if it never shows up.
   */
  | { kind: 'awaitReservation' }
  | { kind: 'ignore'; why: string };

/** What delivery.completed does to an order's stock. */
export function decideCompletion(existing: OrderStockRecord | undefined): CompletionDecision {
  if (!existing) return { kind: 'awaitReservation' };
  if (!existing.orderSeen)
    return { kind: 'ignore', why: 'released before the order arrived, nothing was reserved' };
  switch (existing.status) {
    case 'RESERVED':
      return { kind: 'sell', lines: existing.lines };
    case 'SOLD':
      return { kind: 'ignore', why: 'already sold' };
    case 'RELEASED':
      return { kind: 'ignore', why: 'the reservation was released before delivery completed' };
    case 'REJECTED':
      return { kind: 'ignore', why: 'the order was rejected, nothing was reserved' };
  }
}
