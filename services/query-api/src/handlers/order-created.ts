import type { EventEnvelope } from '@dispatch/contracts';
import { latestWins } from '../domain/write-time';
import { everyEventWrites, json, orderColumns, type ReadModelWrite } from '../domain/writes';

/**
 * order.created → the order columns (the earliest order.created wins, as in the fold) and the
 * customer's listing entry. The card token is never stored.
 */
export function orderCreatedWrites(event: EventEnvelope<'order.created'>): ReadModelWrite[] {
  const { customerId, totalAmount, currency, items, deliveryAddress } = event.payload;
  const createdAt = new Date(event.occurredAt);
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      order_event_id: event.eventId,
      order_created_at: createdAt,
      order_customer_id: customerId,
      order_total_amount: totalAmount,
      order_currency: currency,
      order_items: json(items),
      order_delivery_address: json(deliveryAddress),
    }),
    {
      table: 'orders_by_customer',
      values: { customer_id: customerId, created_at: createdAt, order_id: event.orderId },
      timestamp: latestWins(createdAt, event.eventId),
    },
  ];
}
