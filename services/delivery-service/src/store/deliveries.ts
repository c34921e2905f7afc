import type { DeliveryStatus } from '../domain/delivery';
import type { DeliveryPhase } from '../domain/eta';
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

interface DeliveryRow {
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

const COLUMNS = `delivery_id, order_id, status, correlation_id, payment_event_id, payment_authorized_at,
  last_event_id, destination_lat, destination_lng, assign_deadline, next_attempt_at, driver_id, driver_name,
  assigned_at, estimated_delivery_time, eta_checked_at, completed_at, failed_at, failure_reason, cancelled_at,
  driver_lat, driver_lng, position_at, created_at, updated_at`;

/** COLUMNS of an `UPDATE deliveries AS d ... FROM ...`, where a bare name could be the other table's. */
const UPDATED_COLUMNS = COLUMNS.replace(/\w+/g, (column) => `d.${column}`);

function toDelivery(row: DeliveryRow): Delivery {
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

/**
 * One batch of the ETA refresh: locks up to `limit` active deliveries whose ETA was last computed at
 * or before `checkedBefore`, in driver order after `afterDriverId` ('' for a pass's first batch),
 * skipping those another instance is refreshing. An instance that reads a row right after another
 * committed its refresh sees the new eta_checked_at on re-check and leaves it. Only deliveries without
 * a reported position: once the driver reports, the ETA follows the position (reportPosition). Keyset
 * order on deliveries_one_active_per_driver, as lockDueSimulation: a pass reads each active delivery
 * once (see migration 1767916800000).
 */
export async function lockDueEtaRefresh(
  tx: Db,
  checkedBefore: Date,
  afterDriverId: string,
  limit: number,
): Promise<Delivery[]> {
  const result = await tx.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
      WHERE status IN ('ASSIGNED', 'EN_ROUTE') AND driver_id > $2
        AND eta_checked_at <= $1 AND position_at IS NULL
      ORDER BY driver_id
      LIMIT $3
      FOR UPDATE SKIP LOCKED`,
    [checkedBefore, afterDriverId, limit],
  );
  return result.rows.map(toDelivery);
}

/**
 * Records a refresh of a delivery the caller locked while active; with `published`, also the ETA and
 * phase that went out in an eta.updated. By key alone, like markCompleted.
 */
export async function recordEtaCheck(
  tx: Db,
  deliveryId: string,
  now: Date,
  published?: { estimatedDeliveryTime: Date; phase: DeliveryPhase; lastEventId: string },
): Promise<void> {
  if (!published) {
    await tx.query(`UPDATE deliveries SET eta_checked_at = $2 WHERE delivery_id = $1`, [deliveryId, now]);
    return;
  }
  await tx.query(
    `UPDATE deliveries
        SET eta_checked_at = $2, estimated_delivery_time = $3, status = $4, last_event_id = $5, updated_at = $2
      WHERE delivery_id = $1`,
    [deliveryId, now, published.estimatedDeliveryTime, published.phase, published.lastEventId],
  );
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

/**
 * Locks the active delivery a driver is on (by the delivery's own driver_id, so the driver row is not
 * locked first: every writer locks a delivery before its driver). Undefined when the driver is on none.
 */
export async function lockActiveDeliveryOfDriver(tx: Db, driverId: string): Promise<Delivery | undefined> {
  const result = await tx.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries WHERE driver_id = $1 AND status IN ('ASSIGNED', 'EN_ROUTE') FOR UPDATE`,
    [driverId],
  );
  return result.rows[0] ? toDelivery(result.rows[0]) : undefined;
}

/**
 * One batch of the simulator's work: locks up to `limit` active deliveries not moved since
 * `movedBefore` (or never), in driver order after `afterDriverId` ('' for a tick's first batch),
 * skipping rows another instance is moving right now (SKIP LOCKED). A row another instance moved
 * while this query waited has a newer position_at, which the FOR UPDATE re-check sees, so it is not
 * moved twice in one tick; that is what keeps two instances from driving the same driver.
 *
 * Keyset order on deliveries_one_active_per_driver, so a tick's batches together read each active
 * delivery about once. Ordering by position_at would need an index on it (reports would then never
 * be HOT updates), and without one every batch read and sorted all active deliveries: a tick cost
 * grew with the square of the deliveries under way.
 */
export async function lockDueSimulation(
  tx: Db,
  movedBefore: Date,
  afterDriverId: string,
  limit: number,
): Promise<Delivery[]> {
  const result = await tx.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
      WHERE status IN ('ASSIGNED', 'EN_ROUTE') AND driver_id > $2
        AND (position_at IS NULL OR position_at <= $1)
      ORDER BY driver_id
      LIMIT $3
      FOR UPDATE SKIP LOCKED`,
    [movedBefore, afterDriverId, limit],
  );
  return result.rows.map(toDelivery);
}

/** A reported position to store; with `published`, also the ETA and phase that went out in an eta.updated. */
export interface PositionWrite {
  deliveryId: string;
  position: LatLng;
  published?: { estimatedDeliveryTime: Date; phase: DeliveryPhase; lastEventId: string };
}

/**
 * Records reported positions of active deliveries' drivers, all at `now`, in one statement (the
 * simulated fleet moves every active delivery each tick); with `published`, also the ETA and phase
 * that went out in an eta.updated (and that event as the delivery's latest). Returns the updated
 * rows by deliveryId; throws when one is missing. The caller holds the rows' locks, taken while they
 * were active (and checked that they are), so the statement has no status filter: with one, the
 * planner may join through the partial index of active deliveries, reading all of them for every
 * batch. No indexed column changes (see migration 1767830400000), so the rows are updated in place.
 */
export async function recordPositions(
  tx: Db,
  writes: readonly PositionWrite[],
  now: Date,
): Promise<Map<string, Delivery>> {
  if (writes.length === 0) return new Map();
  const result = await tx.query<DeliveryRow>(
    `UPDATE deliveries AS d
        SET driver_lat = w.lat, driver_lng = w.lng, position_at = $1, updated_at = $1,
            estimated_delivery_time = COALESCE(w.eta, d.estimated_delivery_time),
            status = COALESCE(w.phase, d.status),
            last_event_id = COALESCE(w.event_id, d.last_event_id)
       FROM unnest($2::uuid[], $3::float8[], $4::float8[], $5::timestamptz[], $6::text[], $7::uuid[])
            AS w(delivery_id, lat, lng, eta, phase, event_id)
      WHERE d.delivery_id = w.delivery_id
      RETURNING ${UPDATED_COLUMNS}`,
    [
      now,
      writes.map((w) => w.deliveryId),
      writes.map((w) => w.position.lat),
      writes.map((w) => w.position.lng),
      writes.map((w) => w.published?.estimatedDeliveryTime ?? null),
      writes.map((w) => w.published?.phase ?? null),
      writes.map((w) => w.published?.lastEventId ?? null),
    ],
  );
  const updated = new Map(result.rows.map((row) => [row.delivery_id, toDelivery(row)]));
  const missing = writes.find((w) => !updated.has(w.deliveryId));
  if (missing) throw new Error(`delivery ${missing.deliveryId} does not exist`);
  return updated;
}
