import type { DeliveryStatus } from '../domain/delivery';
import type { LatLng } from '../domain/geo';
import type { Db } from './db';

export interface Delivery {
  deliveryId: string;
  orderId: string;
  status: DeliveryStatus;
  correlationId: string;
  paymentEventId: string;
  paymentAuthorizedAt: Date;
  lastEventId: string;
  destination: LatLng | null;
  assignDeadline: Date | null;
  nextAttemptAt: Date | null;
  driverId: string | null;
  driverName: string | null;
  assignedAt: Date | null;
  estimatedDeliveryTime: Date | null;
  etaCheckedAt: Date | null;
  completedAt: Date | null;
  failedAt: Date | null;
  failureReason: string | null;
  cancelledAt: Date | null;
  /** The driver's last reported position (null before the first report) and when it was reported. */
  driverPosition: LatLng | null;
  positionAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A deliveries row as node-postgres returns it (active-deliveries.ts reads it too). */
export interface DeliveryRow {
  delivery_id: string;
  order_id: string;
  status: DeliveryStatus;
  correlation_id: string;
  payment_event_id: string;
  payment_authorized_at: Date;
  last_event_id: string;
  destination_lat: number | null;
  destination_lng: number | null;
  assign_deadline: Date | null;
  next_attempt_at: Date | null;
  driver_id: string | null;
  driver_name: string | null;
  assigned_at: Date | null;
  estimated_delivery_time: Date | null;
  eta_checked_at: Date | null;
  completed_at: Date | null;
  failed_at: Date | null;
  failure_reason: string | null;
  cancelled_at: Date | null;
  driver_lat: number | null;
  driver_lng: number | null;
  position_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const COLUMNS = `delivery_id, order_id, status, correlation_id, payment_event_id, payment_authorized_at,
  last_event_id, destination_lat, destination_lng, assign_deadline, next_attempt_at, driver_id, driver_name,
  assigned_at, estimated_delivery_time, eta_checked_at, completed_at, failed_at, failure_reason, cancelled_at,
  driver_lat, driver_lng, position_at, created_at, updated_at`;

/** COLUMNS of an `UPDATE deliveries AS d ... FROM ...`, where a bare name could be the other table's. */
export const UPDATED_COLUMNS = COLUMNS.replace(/\w+/g, (column) => `d.${column}`);

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    deliveryId: row.delivery_id,
    orderId: row.order_id,
    status: row.status,
    correlationId: row.correlation_id,
    paymentEventId: row.payment_event_id,
    paymentAuthorizedAt: row.payment_authorized_at,
    lastEventId: row.last_event_id,
    destination:
      row.destination_lat !== null && row.destination_lng !== null
        ? { lat: row.destination_lat, lng: row.destination_lng }
        : null,
    assignDeadline: row.assign_deadline,
    nextAttemptAt: row.next_attempt_at,
    driverId: row.driver_id,
    driverName: row.driver_name,
    assignedAt: row.assigned_at,
    estimatedDeliveryTime: row.estimated_delivery_time,
    etaCheckedAt: row.eta_checked_at,
    completedAt: row.completed_at,
    failedAt: row.failed_at,
    failureReason: row.failure_reason,
    cancelledAt: row.cancelled_at,
    driverPosition:
      row.driver_lat !== null && row.driver_lng !== null
        ? { lat: row.driver_lat, lng: row.driver_lng }
        : null,
    positionAt: row.position_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function findDeliveryByOrder(
  db: Db,
  orderId: string,
  opts: { forUpdate?: boolean } = {},
): Promise<Delivery | undefined> {
  const result = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries WHERE order_id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [orderId],
  );
  return result.rows[0] ? toDelivery(result.rows[0]) : undefined;
}

/**
 * Locks the deliveries of these orders (those that have one) in orderId order and returns them. A
 * batch takes them right after its orders' locks: the scheduler and the complete request lock
 * deliveries without the order lock, and a delivery's driver can change until it is locked.
 */
export async function lockDeliveriesOf(db: Db, orderIds: readonly string[]): Promise<Delivery[]> {
  if (orderIds.length === 0) return [];
  const result = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries WHERE order_id = ANY($1::text[]) ORDER BY order_id FOR UPDATE`,
    [[...new Set(orderIds)]],
  );
  return result.rows.map(toDelivery);
}

export interface NewDelivery {
  deliveryId: string;
  orderId: string;
  status: 'AWAITING_ORDER' | 'PENDING' | 'CANCELLED';
  correlationId: string;
  paymentEventId: string;
  paymentAuthorizedAt: Date;
  destination: LatLng | null;
  /** PENDING only: the first attempt is right away. */
  assignDeadline: Date | null;
}

export async function insertDelivery(tx: Db, d: NewDelivery, now: Date): Promise<Delivery> {
  const pending = d.status === 'PENDING';
  const result = await tx.query<DeliveryRow>(
    `INSERT INTO deliveries (delivery_id, order_id, status, correlation_id, payment_event_id,
        payment_authorized_at, last_event_id, destination_lat, destination_lng, assign_deadline,
        next_attempt_at, cancelled_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8, $9, $10, $11, $12, $12)
     RETURNING ${COLUMNS}`,
    [
      d.deliveryId,
      d.orderId,
      d.status,
      d.correlationId,
      d.paymentEventId,
      d.paymentAuthorizedAt,
      d.destination?.lat ?? null,
      d.destination?.lng ?? null,
      pending ? d.assignDeadline : null,
      pending ? now : null,
      d.status === 'CANCELLED' ? now : null,
      now,
    ],
  );
  const row = result.rows[0];
  if (!row) throw new Error('insert into deliveries returned no row');
  return toDelivery(row);
}

/** order.created arrived for an AWAITING_ORDER delivery: it now has an address and a deadline. */
export async function startSeekingDriver(
  tx: Db,
  deliveryId: string,
  destination: LatLng,
  deadline: Date,
  now: Date,
): Promise<Delivery> {
  const result = await tx.query<DeliveryRow>(
    `UPDATE deliveries
        SET status = 'PENDING', destination_lat = $2, destination_lng = $3, assign_deadline = $4,
            next_attempt_at = $5, updated_at = $5
      WHERE delivery_id = $1 AND status = 'AWAITING_ORDER'
      RETURNING ${COLUMNS}`,
    [deliveryId, destination.lat, destination.lng, deadline, now],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`delivery ${deliveryId} was not AWAITING_ORDER`);
  return toDelivery(row);
}

/**
 * Locks PENDING deliveries whose next attempt is due, oldest first, skipping those another
 * instance is working on.
 */
export async function lockDuePending(tx: Db, now: Date, limit: number): Promise<Delivery[]> {
  const result = await tx.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
      WHERE status = 'PENDING' AND next_attempt_at <= $1
      ORDER BY created_at, delivery_id
      LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return result.rows.map(toDelivery);
}

export async function markAssigned(
  tx: Db,
  deliveryId: string,
  a: { driverId: string; driverName: string; estimatedDeliveryTime: Date; lastEventId: string },
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE deliveries
        SET status = 'ASSIGNED', driver_id = $2, driver_name = $3, assigned_at = $5,
            estimated_delivery_time = $4, eta_checked_at = $5, last_event_id = $6,
            assign_deadline = NULL, next_attempt_at = NULL, updated_at = $5
      WHERE delivery_id = $1 AND status = 'PENDING'`,
    [deliveryId, a.driverId, a.driverName, a.estimatedDeliveryTime, now, a.lastEventId],
  );
}

export async function postponeAttempt(tx: Db, deliveryId: string, retryAt: Date, now: Date): Promise<void> {
  await tx.query(
    `UPDATE deliveries SET next_attempt_at = $2, updated_at = $3 WHERE delivery_id = $1 AND status = 'PENDING'`,
    [deliveryId, retryAt, now],
  );
}

export async function markFailed(
  tx: Db,
  deliveryId: string,
  reason: string,
  lastEventId: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE deliveries
        SET status = 'FAILED', failure_reason = $2, failed_at = $4, last_event_id = $3,
            assign_deadline = NULL, next_attempt_at = NULL, updated_at = $4
      WHERE delivery_id = $1 AND status = 'PENDING'`,
    [deliveryId, reason, lastEventId, now],
  );
}

/**
 * The delivery (locked by the caller, who decided from its status that it can be cancelled) is
 * CANCELLED. By key alone, like markCompleted.
 */
export async function markCancelled(tx: Db, deliveryId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE deliveries
        SET status = 'CANCELLED', cancelled_at = $2, assign_deadline = NULL, next_attempt_at = NULL,
            updated_at = $2
      WHERE delivery_id = $1`,
    [deliveryId, now],
  );
}

/**
 * The delivery (locked by the caller, who checked that it is active) is COMPLETED. The statement
 * finds the row by its key alone: with a status filter as well, a planner whose statistics were
 * taken while no delivery was under way prefers a scan of a partial index of active deliveries,
 * which under load reads every one of them for each completion.
 */
export async function markCompleted(
  tx: Db,
  deliveryId: string,
  lastEventId: string,
  now: Date,
): Promise<Delivery> {
  const result = await tx.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'COMPLETED', completed_at = $3, last_event_id = $2, updated_at = $3
      WHERE delivery_id = $1
      RETURNING ${COLUMNS}`,
    [deliveryId, lastEventId, now],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`delivery ${deliveryId} does not exist`);
  return toDelivery(row);
}

/** Deliveries not finished yet, per status (the gauges). Reads only the partial index on open rows. */
export async function countOpenDeliveries(
  db: Db,
): Promise<{ awaitingOrder: number; pending: number; active: number }> {
  const result = await db.query<{ status: DeliveryStatus; n: number }>(
    `SELECT status, count(*)::int AS n FROM deliveries
      WHERE status IN ('AWAITING_ORDER', 'PENDING', 'ASSIGNED', 'EN_ROUTE')
      GROUP BY status`,
  );
  const n = (status: DeliveryStatus) => result.rows.find((row) => row.status === status)?.n ?? 0;
  return { awaitingOrder: n('AWAITING_ORDER'), pending: n('PENDING'), active: n('ASSIGNED') + n('EN_ROUTE') };
}
