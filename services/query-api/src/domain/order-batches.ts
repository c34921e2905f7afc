import type { AnyEvent } from '@dispatch/contracts';

/**
 * A consumed batch's events by order, in the order each order first appears, each order's events
 * in arrival order and without duplicates (same eventId: the same event, whose writes are the same
 * cells). Pure.
 */
export function groupByOrder(events: readonly AnyEvent[]): Map<string, AnyEvent[]> {
  const byOrder = new Map<string, AnyEvent[]>();
  const seen = new Set<string>();
  for (const event of events) {
    const key = `${event.orderId}\u0000${event.eventId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = byOrder.get(event.orderId);
    if (list) list.push(event);
    else byOrder.set(event.orderId, [event]);
  }
  return byOrder;
}
