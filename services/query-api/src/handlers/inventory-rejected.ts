import type { EventEnvelope } from '@dispatch/contracts';
import { everyEventWrites, json, orderColumns, type ReadModelWrite } from '../domain/writes';

/** inventory.rejected → its own columns; the earliest rejection wins. */
export function inventoryRejectedWrites(event: EventEnvelope<'inventory.rejected'>): ReadModelWrite[] {
  const { amount, currency, reasons } = event.payload;
  return [
    ...everyEventWrites(event),
    orderColumns(event, 'earliest', {
      inventory_rejected_event_id: event.eventId,
      inventory_rejected_at: new Date(event.occurredAt),
      inventory_rejected_amount: amount,
      inventory_rejected_currency: currency,
      inventory_rejected_reasons: json(reasons),
    }),
  ];
}
