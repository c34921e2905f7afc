import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, optional, orderColumns, type ReadModelWrite } from '../domain/writes';

/**
 * The ETA group, written by delivery.assigned and eta.updated alike: the one with the LATEST
 * (occurredAt, eventId) wins, so a late-arriving older ETA never overwrites a newer one. The
 * driver travels with it (the fold takes the delivery's identity from the ETA event first).
 */
export function etaColumns(
  event: EventEnvelope<'delivery.assigned'> | EventEnvelope<'eta.updated'>,
): ReadModelWrite {
  const { deliveryId, driverName, driverId, estimatedDeliveryTime } = event.payload;
  return orderColumns(event, 'latest', {
    delivery_eta_event_id: event.eventId,
    delivery_eta_at: new Date(event.occurredAt),
    delivery_eta_estimated_time: new Date(estimatedDeliveryTime),
    delivery_eta_delivery_id: deliveryId,
    delivery_eta_driver_name: driverName,
    delivery_eta_driver_id: optional(driverId),
  });
}

/** eta.updated → the ETA group. */
export function etaUpdatedWrites(event: EventEnvelope<'eta.updated'>): ReadModelWrite[] {
  return [...everyEventWrites(event), etaColumns(event)];
}
