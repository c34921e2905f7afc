import type { DeliveryPhase } from '../domain/eta';
import type { LatLng } from '../domain/geo';
import type { Db } from './db';
import { COLUMNS, type Delivery, type DeliveryRow, toDelivery, UPDATED_COLUMNS } from './deliveries';

// Deliveries under way (ASSIGNED or EN_ROUTE): the simulator's and the ETA refresh's batches, the
// driver API's lookup and the position writes. Every statement here reaches them through one index,
// deliveries_one_active_per_driver, by key or in driver order (migration 1767916800000).

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
  return lockInDriverOrder(
    tx,
    'eta_checked_at <= $1 AND position_at IS NULL',
    checkedBefore,
    afterDriverId,
    limit,
  );
}

/**
 * Up to `limit` active deliveries that match `due` (a fixed condition on $1), in driver order after
 * `afterDriverId`, locked, skipping rows another transaction holds: one batch of a keyset walk.
 */
async function lockInDriverOrder(
  tx: Db,
  due: string,
  dueParam: Date,
  afterDriverId: string,
  limit: number,
): Promise<Delivery[]> {
  const result = await tx.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
      WHERE status IN ('ASSIGNED', 'EN_ROUTE') AND driver_id > $2 AND ${due}
      ORDER BY driver_id
      LIMIT $3
      FOR UPDATE SKIP LOCKED`,
    [dueParam, afterDriverId, limit],
  );
  return result.rows.map(toDelivery);
}

/**
 * Records a refresh of a delivery the caller locked while active; with `published`, also the ETA and
 * phase that went out in an eta.updated. By key alone, like markCompleted (deliveries.ts).
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
  return lockInDriverOrder(
    tx,
    '(position_at IS NULL OR position_at <= $1)',
    movedBefore,
    afterDriverId,
    limit,
  );
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
