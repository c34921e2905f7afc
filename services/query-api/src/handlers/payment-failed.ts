import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, orderColumns, type ReadModelWrite } from '../domain/writes';

/** payment.failed → its own columns; the earliest failure wins. */
export function paymentFailedWrites(event: EventEnvelope<'payment.failed'>): ReadModelWrite[] {
  const { paymentId, amount, currency, failureReason } = event.payload;
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      payment_failed_event_id: event.eventId,
      payment_failed_at: new Date(event.occurredAt),
      payment_failed_payment_id: paymentId,
      payment_failed_amount: amount,
      payment_failed_currency: currency,
      payment_failed_reason: failureReason,
    }),
  ];
}
