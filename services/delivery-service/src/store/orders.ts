import type { OrderFacts } from '../domain/assignment';
import type { LatLng } from '../domain/geo';
import type { Db } from './db';

interface OrderRow {
  destination_lat: number | null;
  destination_lng: number | null;
  cancelled_at: Date | null;
}

/**
 * Creates the order's row if needed and locks it for the rest of the transaction. Every handler of
 * an order's events takes this lock first, so order.created, order.cancelled and payment.authorized
 * of one order, arriving on different topics and handled in parallel, apply one after the other.
 */
export async function lockOrder(tx: Db, orderId: string, now: Date): Promise<OrderFacts> {
  await tx.query(
    `INSERT INTO orders (order_id, updated_at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING`,
    [orderId, now],
  );
  const result = await tx.query<OrderRow>(
    `SELECT destination_lat, destination_lng, cancelled_at FROM orders WHERE order_id = $1 FOR UPDATE`,
    [orderId],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`order ${orderId} row missing right after insert`);
  const destination =
    row.destination_lat !== null && row.destination_lng !== null
      ? { lat: row.destination_lat, lng: row.destination_lng }
      : undefined;
  return { cancelled: row.cancelled_at !== null, ...(destination ? { destination } : {}) };
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
