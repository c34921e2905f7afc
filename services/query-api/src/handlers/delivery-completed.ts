import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, optional, orderColumns, type ReadModelWrite } from '../domain/writes';

/**
 * delivery.completed → its own columns. The fold ranks completions by the payload's completedAt
 * (when the goods were handed over), not occurredAt, so that is what the write timestamp uses.
 */
export function deliveryCompletedWrites(event: EventEnvelope<'delivery.completed'>): ReadModelWrite[] {
  const { deliveryId, driverName, driverId, completedAt } = event.payload;
  return [
    ...everyEventWrites(event),
    orderColumns(
      event,
      'earliest',
      {
        delivery_completed_event_id: event.eventId,
        delivery_completed_at: new Date(completedAt),
        delivery_completed_delivery_id: deliveryId,
        delivery_completed_driver_name: driverName,
        delivery_completed_driver_id: optional(driverId),
      },
      completedAt,
    ),
  ];
}
