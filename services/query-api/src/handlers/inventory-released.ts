import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, orderColumns, type ReadModelWrite } from '../domain/writes';

/** inventory.released (a compensation) → the release columns; the earliest release wins. */
export function inventoryReleasedWrites(event: EventEnvelope<'inventory.released'>): ReadModelWrite[] {
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      compensation_released_event_id: event.eventId,
      compensation_released_at: new Date(event.occurredAt),
      compensation_released_reason: event.payload.reason,
    }),
  ];
}
