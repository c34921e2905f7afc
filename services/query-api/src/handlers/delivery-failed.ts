import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, optional, orderColumns, type ReadModelWrite } from '../domain/writes';

/** delivery.failed → its own columns, driver included (used when no ETA or completion is known); earliest wins. */
export function deliveryFailedWrites(event: EventEnvelope<'delivery.failed'>): ReadModelWrite[] {
  const { deliveryId, driverName, driverId, reason } = event.payload;
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      delivery_failed_event_id: event.eventId,
      delivery_failed_at: new Date(event.occurredAt),
      delivery_failed_reason: reason,
      delivery_failed_delivery_id: deliveryId,
      delivery_failed_driver_name: optional(driverName),
      delivery_failed_driver_id: optional(driverId),
    }),
  ];
}
