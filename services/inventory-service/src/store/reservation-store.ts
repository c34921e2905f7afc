import type { Currency, PricedLine } from '@dispatch/contracts';
import type { ClientBase } from 'pg';
import type { OrderStockRecord, ReleaseReason, ReservationStatus } from '../domain/types';

/**
 * First key of the per-order advisory lock (the second is the orderId's hash). The two-key lock space
 * is separate from the one-key locks the platform takes (migrations, outbox relay leadership).
 */
const ORDER_LOCK_CLASS = 4_242_083;

interface ReservationRow {
  status: ReservationStatus;
  order_seen: boolean;
  customer_id: string | null;
  currency: string | null;
  release_reason: ReleaseReason | null;
}

/**
 * What is known about one order's stock, read inside a step: its batch holds the order's lock
 * (lockOrders, taken before any step runs), so nothing else changes it until the batch commits.
 */
export async function orderStock(tx: ClientBase, orderId: string): Promise<OrderStockRecord | undefined> {
  const result = await tx.query<ReservationRow>(
    `SELECT status, order_seen, customer_id, currency, release_reason
       FROM reservations WHERE order_id = $1`,
    [orderId],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  if (!row.order_seen) {
    if (row.release_reason === null)
      throw new ReservationStateError(`tombstone ${orderId} has no release reason`);
    return { orderId, orderSeen: false, status: 'RELEASED', releaseReason: row.release_reason };
  }
  if (row.customer_id === null || row.currency === null) {
    throw new ReservationStateError(`order ${orderId} is marked seen but lacks its customer or currency`);
  }
  const lines = await tx.query<{ item_id: string; quantity: number; unit_price: string }>(
    `SELECT item_id, quantity, unit_price::text AS unit_price
       FROM reservation_lines WHERE order_id = $1 ORDER BY item_id`,
    [orderId],
  );
  return {
    orderId,
    orderSeen: true,
    status: row.status,
    customerId: row.customer_id,
    // The column only ever receives currencies parsed from order.created.
    currency: row.currency as Currency,
    lines: lines.rows.map((l) => ({ itemId: l.item_id, quantity: l.quantity, unitPrice: l.unit_price })),
    ...(row.release_reason === null ? {} : { releaseReason: row.release_reason }),
  };
}

/**
 * Serialises everything that happens to these orders for the rest of the transaction, across all
 * instances. Advisory locks rather than row locks because a row may not exist yet: a release and its
 * order.created can arrive on different topics at different instances at the same moment, and
 * exactly one of them must find the other's effect. Always taken before any item lock, so the lock
 * order stays order → items (sorted); all in one statement, in the order of the lock keys (the
 * hashes, not the ids: two ids may share a hash, and so a lock), so two transactions that lock
 * several orders each, such as two partitions' batches, never wait for each other in a cycle.
 */
export async function lockOrders(tx: ClientBase, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  // The ORDER BY is applied before the lock function runs on each row (PostgreSQL evaluates a
  // volatile select list after sorting).
  await tx.query(
    `SELECT pg_advisory_xact_lock($1, k)
       FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id) AS keys
      ORDER BY k`,
    [ORDER_LOCK_CLASS, [...new Set(orderIds)]],
  );
}

/**
 * The items these orders hold or held (their reservation lines): what a release or a sale of them
 * moves. Stable while their order locks are held.
 */
export async function itemsOfOrders(tx: ClientBase, orderIds: readonly string[]): Promise<string[]> {
  if (orderIds.length === 0) return [];
  const result = await tx.query<{ item_id: string }>(
    'SELECT DISTINCT item_id FROM reservation_lines WHERE order_id = ANY($1::text[])',
    [[...new Set(orderIds)]],
  );
  return result.rows.map((row) => row.item_id);
}

interface SeenOrder {
  orderId: string;
  customerId: string;
  currency: Currency;
}

/** Records a reservation and the lines it holds (the stock itself is moved by moveStock). */
export async function insertReserved(
  tx: ClientBase,
  order: SeenOrder,
  lines: readonly PricedLine[],
): Promise<void> {
  await tx.query(
    `INSERT INTO reservations (order_id, status, order_seen, customer_id, currency)
     VALUES ($1, 'RESERVED', true, $2, $3)`,
    [order.orderId, order.customerId, order.currency],
  );
  await tx.query(
    `INSERT INTO reservation_lines (order_id, item_id, quantity, unit_price)
     SELECT $1, l.item_id, l.qty, l.price FROM unnest($2::text[], $3::int[], $4::numeric[]) AS l(item_id, qty, price)`,
    [order.orderId, lines.map((l) => l.itemId), lines.map((l) => l.quantity), lines.map((l) => l.unitPrice)],
  );
}

/** Records that the order was rejected, so a later compensation knows nothing is held. */
export async function insertRejected(tx: ClientBase, order: SeenOrder): Promise<void> {
  await tx.query(
    `INSERT INTO reservations (order_id, status, order_seen, customer_id, currency)
     VALUES ($1, 'REJECTED', true, $2, $3)`,
    [order.orderId, order.customerId, order.currency],
  );
}

/** A release for an order not seen yet: the tombstone that stops its reservation later. */
export async function insertTombstone(tx: ClientBase, orderId: string, reason: ReleaseReason): Promise<void> {
  await tx.query(
    `INSERT INTO reservations (order_id, status, order_seen, release_reason)
     VALUES ($1, 'RELEASED', false, $2)`,
    [orderId, reason],
  );
}

/** The tombstoned order has now been seen (its release is being announced). */
export async function markTombstoneSeen(tx: ClientBase, order: SeenOrder): Promise<void> {
  const result = await tx.query(
    `UPDATE reservations SET order_seen = true, customer_id = $2, currency = $3, updated_at = now()
      WHERE order_id = $1 AND NOT order_seen`,
    [order.orderId, order.customerId, order.currency],
  );
  expectOneRow(result.rowCount, `mark the tombstone of ${order.orderId} seen`);
}

export async function markReleased(tx: ClientBase, orderId: string, reason: ReleaseReason): Promise<void> {
  const result = await tx.query(
    `UPDATE reservations SET status = 'RELEASED', release_reason = $2, updated_at = now()
      WHERE order_id = $1 AND status = 'RESERVED'`,
    [orderId, reason],
  );
  expectOneRow(result.rowCount, `release the reservation of ${orderId}`);
}

export async function markSold(tx: ClientBase, orderId: string): Promise<void> {
  const result = await tx.query(
    `UPDATE reservations SET status = 'SOLD', updated_at = now() WHERE order_id = $1 AND status = 'RESERVED'`,
    [orderId],
  );
  expectOneRow(result.rowCount, `sell the reservation of ${orderId}`);
}

/** The row read under the order lock changed underneath us: roll back rather than guess. */
export class ReservationStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReservationStateError';
  }
}

function expectOneRow(rowCount: number | null, what: string): void {
  if (rowCount !== 1) throw new ReservationStateError(`could not ${what}: ${rowCount ?? 0} rows matched`);
}
