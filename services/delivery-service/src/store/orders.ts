import type { OrderFacts } from '../domain/assignment';
import type { LatLng } from '../domain/geo';
import type { Db } from './db';

interface OrderRow {
  destination_lat: number | null;
  destination_lng: number | null;
  cancelled_at: Date | null;
}

/**
 * What the service knows of an order, read inside a step. The step's batch created the order's row
 * and locked it before any step ran (lockBatch → lockOrders), so order.created, order.cancelled and
 * payment.authorized of one order, arriving on different topics and handled in parallel, apply one
 * after the other; a missing row here is a bug, not a race.
 */
export async function orderFacts(tx: Db, orderId: string): Promise<OrderFacts> {
  const result = await tx.query<OrderRow>(
    'SELECT destination_lat, destination_lng, cancelled_at FROM orders WHERE order_id = $1',
    [orderId],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`order ${orderId} has no row: its batch did not lock it (lockOrders)`);
  const destination =
    row.destination_lat !== null && row.destination_lng !== null
      ? { lat: row.destination_lat, lng: row.destination_lng }
      : undefined;
  return { cancelled: row.cancelled_at !== null, ...(destination ? { destination } : {}) };
}

/**
 * Creates the missing rows of a batch's orders, then locks them all, each statement
 * in orderId order, so two transactions that lock several orders each (two partitions' batches, or
 * an order batch and a payment batch holding the same orders in other orders) never wait for each
 * other in a cycle.
 */
export async function lockOrders(tx: Db, orderIds: readonly string[], now: Date): Promise<void> {
  const ids = [...new Set(orderIds)];
  if (ids.length === 0) return;
  // Rows are inserted in the SELECT's order; a row another transaction is inserting is waited for.
  await tx.query(
    `INSERT INTO orders (order_id, updated_at)
     SELECT id, $2 FROM unnest($1::text[]) AS id ORDER BY id
     ON CONFLICT (order_id) DO NOTHING`,
    [ids, now],
  );
  // PostgreSQL sorts before it locks.
  await tx.query('SELECT 1 FROM orders WHERE order_id = ANY($1::text[]) ORDER BY order_id FOR UPDATE', [ids]);
}

export async function recordOrderCreated(
  tx: Db,
  orderId: string,
  destination: LatLng,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE orders SET destination_lat = $2, destination_lng = $3, created_seen_at = $4, updated_at = $4
      WHERE order_id = $1`,
    [orderId, destination.lat, destination.lng, now],
  );
}

export async function recordOrderCancelled(tx: Db, orderId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE orders SET cancelled_at = COALESCE(cancelled_at, $2), updated_at = $2 WHERE order_id = $1`,
    [orderId, now],
  );
}
