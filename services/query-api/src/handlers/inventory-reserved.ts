import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, json, orderColumns, type ReadModelWrite } from '../domain/writes';

/**
 * inventory.reserved → its own columns; the earliest reservation wins. Whether a rejection
 * overrides it is decided at read time (the fold: any rejection beats a reservation).
 */
export function inventoryReservedWrites(event: EventEnvelope<'inventory.reserved'>): ReadModelWrite[] {
  const { amount, currency, lines } = event.payload;
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      inventory_reserved_event_id: event.eventId,
      inventory_reserved_at: new Date(event.occurredAt),
      inventory_reserved_amount: amount,
      inventory_reserved_currency: currency,
      inventory_reserved_lines: json(lines),
    }),
  ];
}
