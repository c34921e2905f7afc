import type { ClientBase } from 'pg';

/**
 * Records that `consumer` has handled `eventId`, inside the handler's own transaction `tx`.
 * Returns true the first time and false when the event was already recorded, in which case the
 * handler skips its effect. A concurrent transaction recording the same event waits on the primary
 * key until the first one ends: if that one commits this returns false, if it rolls back this one
 * takes over and returns true. So a redelivered event takes effect exactly once.
 */
export async function recordInbox(
  tx: ClientBase,
  consumer: string,
  eventId: string,
  eventType?: string,
): Promise<boolean> {
  const firsts = await recordInboxBatch(tx, consumer, [{ eventId, eventType: eventType ?? null }]);
  return firsts.take(eventId);
}

/** The first deliveries among a batch just recorded in the inbox. */
export interface FirstDeliveries {
  /** True for an event recorded just now, once: a second call for the same id answers false. */
  take(eventId: string): boolean;
}

/**
 * recordInbox for many events in one statement. An event already recorded is not a first delivery,
 * and an id given twice is taken only once, so a batch holding the same event twice takes effect once.
 */
export async function recordInboxBatch(
  tx: ClientBase,
  consumer: string,
  events: readonly { eventId: string; eventType: string | null }[],
): Promise<FirstDeliveries> {
  const ids = new Set<string>();
  // PostgreSQL returns uuids in lower case; ids are compared that way.
  const take = (eventId: string) => ids.delete(eventId.toLowerCase());
  if (events.length === 0) return { take };
  const result = await tx.query<{ event_id: string }>(
    `INSERT INTO inbox (consumer, event_id, event_type)
     SELECT $1, e.event_id, e.event_type FROM unnest($2::uuid[], $3::text[]) AS e (event_id, event_type)
     ON CONFLICT (consumer, event_id) DO NOTHING
     RETURNING event_id`,
    [consumer, events.map((e) => e.eventId), events.map((e) => e.eventType)],
  );
  for (const row of result.rows) ids.add(row.event_id);
  return { take };
}
