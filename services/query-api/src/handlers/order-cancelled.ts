import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, optional, orderColumns, type ReadModelWrite } from '../domain/writes';

/** order.cancelled → the cancellation columns; the earliest cancellation wins. */
export function orderCancelledWrites(event: EventEnvelope<'order.cancelled'>): ReadModelWrite[] {
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      cancellation_event_id: event.eventId,
      cancellation_at: new Date(event.occurredAt),
      cancellation_reason: optional(event.payload.reason),
      cancellation_by: event.payload.cancelledBy,
    }),
  ];
}
