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
  const result = await tx.query(
    `INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)
     ON CONFLICT (consumer, event_id) DO NOTHING`,
    [consumer, eventId, eventType ?? null],
  );
  return result.rowCount === 1;
}
