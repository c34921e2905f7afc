import type { Pool } from 'pg';

/**
 * Drops what is older than `retentionMs` and finished: delivered or given-up deliveries (with their
 * attempts), then events no delivery refers to any more, then order owners. Pending deliveries and
 * held events are never touched. A batch at a time, so one run never holds long locks.
 */
export async function pruneFinished(
  pool: Pool,
  retentionMs: number,
  batch = 1_000,
): Promise<{ deliveries: number; events: number; orders: number }> {
  const deliveries = await pool.query(
    `DELETE FROM webhook_deliveries WHERE id IN (
       SELECT id FROM webhook_deliveries
        WHERE state IN ('delivered', 'failed') AND created_at < now() - $1::float8 * interval '1 millisecond'
        LIMIT $2)`,
    [retentionMs, batch],
  );
  const events = await pool.query(
    `DELETE FROM webhook_events WHERE event_id IN (
       SELECT e.event_id FROM webhook_events e
        WHERE e.released_at IS NOT NULL AND e.received_at < now() - $1::float8 * interval '1 millisecond'
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.event_id)
        LIMIT $2)`,
    [retentionMs, batch],
  );
  const orders = await pool.query(
    `DELETE FROM webhook_orders WHERE order_id IN (
       SELECT order_id FROM webhook_orders WHERE created_at < now() - $1::float8 * interval '1 millisecond' LIMIT $2)`,
    [retentionMs, batch],
  );
  return { deliveries: deliveries.rowCount ?? 0, events: events.rowCount ?? 0, orders: orders.rowCount ?? 0 };
}
