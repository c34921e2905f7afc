import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, orderColumns, type ReadModelWrite } from '../domain/writes';

/** payment.refunded (a compensation) → the refund columns; the earliest refund wins. */
export function paymentRefundedWrites(event: EventEnvelope<'payment.refunded'>): ReadModelWrite[] {
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      compensation_refunded_event_id: event.eventId,
      compensation_refunded_at: new Date(event.occurredAt),
      compensation_refund_id: event.payload.refundId,
      compensation_refund_reason: event.payload.reason,
    }),
  ];
}
