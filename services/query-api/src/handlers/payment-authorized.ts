import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, orderColumns, type ReadModelWrite } from '../domain/writes';

/**
 * payment.authorized → its own columns; the earliest authorisation wins. A failure beats it at
 * read time (the fold ranks FAILED above AUTHORIZED), so the two never share columns.
 */
export function paymentAuthorizedWrites(event: EventEnvelope<'payment.authorized'>): ReadModelWrite[] {
  const { paymentId, amount, currency } = event.payload;
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      payment_authorized_event_id: event.eventId,
      payment_authorized_at: new Date(event.occurredAt),
      payment_authorized_payment_id: paymentId,
      payment_authorized_amount: amount,
      payment_authorized_currency: currency,
    }),
  ];
}
