import type { AnyEvent } from '@dispatch/contracts';
import type { ClientBase } from 'pg';
import {
  mergeChargeRequest,
  mergeClose,
  mergeInventoryRejected,
  mergeOrderCreated,
} from '../store/order-store';

/** What one consumed event adds to its order's facts (payment_orders), inside the batch's transaction. */
export type FactMerge = (tx: ClientBase) => Promise<void>;

/**
 * The fact each event payment acts on contributes; undefined for any other event type. Merging is
 * all an event does by itself: what the order is then owed is decided from all its facts together
 * (processor.ts), so events of one order may arrive in any order and any number of times.
 */
export function factOf(event: AnyEvent): FactMerge | undefined {
  switch (event.eventType) {
    case 'order.created': {
      // The card token, kept until the charge is decided.
      const { paymentMethod, customerId } = event.payload;
      const cardToken = paymentMethod.type === 'card' ? (paymentMethod.token ?? null) : null;
      return (tx) => mergeOrderCreated(tx, { orderId: event.orderId, customerId, cardToken });
    }
    case 'inventory.reserved':
      // The charge request: charged once order.created's token is known (it may come later).
      return (tx) =>
        mergeChargeRequest(tx, {
          orderId: event.orderId,
          customerId: event.payload.customerId,
          eventId: event.eventId,
          requestedAt: event.occurredAt,
          correlationId: event.correlationId,
          amount: event.payload.amount,
          currency: event.payload.currency,
        });
    case 'inventory.rejected':
      // Nothing was reserved, so nothing will ever be charged: the card token is forgotten now.
      return (tx) => mergeInventoryRejected(tx, event.orderId);
    case 'order.cancelled':
      // Closes the order: an authorized payment is refunded; before any charge, nothing is charged.
      return (tx) => mergeClose(tx, 'ORDER_CANCELLED', event);
    case 'delivery.failed':
      // The goods never reach the customer: refunded like a cancellation.
      return (tx) => mergeClose(tx, 'DELIVERY_FAILED', event);
    default:
      return undefined;
  }
}
