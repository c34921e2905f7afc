import { type AnyEvent, parseEnvelope } from '@dispatch/contracts';
import type { Pool } from 'pg';

/** One row of a service's outbox (the platform's table), its payload parsed as a contract event. */
export interface OutboxRow {
  eventType: string;
  event: AnyEvent;
  /** The relay has published it. */
  sent: boolean;
}

/** The events a service enqueued for an order, in outbox (publish) order. */
export async function outboxOf(pool: Pool, orderId: string): Promise<OutboxRow[]> {
  const result = await pool.query<{ event_type: string; payload: unknown; sent_at: Date | null }>(
    'SELECT event_type, payload, sent_at FROM outbox WHERE message_key = $1 ORDER BY id',
    [orderId],
  );
  return result.rows.map((row) => {
    const parsed = parseEnvelope(JSON.stringify(row.payload));
    if (!parsed.ok) throw parsed.error;
    return { eventType: row.event_type, event: parsed.event, sent: row.sent_at !== null };
  });
}
