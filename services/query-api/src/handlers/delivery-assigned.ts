import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, orderColumns, type ReadModelWrite } from '../domain/writes';
import { etaColumns } from './eta-updated';

/**
 * delivery.assigned → the earliest assignment time (earliest wins), and the ETA and driver columns
 * it shares with eta.updated (the latest of them wins).
 */
export function deliveryAssignedWrites(event: EventEnvelope<'delivery.assigned'>): ReadModelWrite[] {
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', { delivery_assigned_at: new Date(event.occurredAt) }),
    etaColumns(event),
  ];
}
