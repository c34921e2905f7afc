import type { CandidateDriver } from '../domain/assignment';
import type { DriverStatus } from '../domain/delivery';
import type { Db } from './db';

export interface Driver {
  driverId: string;
  name: string;
  status: DriverStatus;
  /** Set while the driver is on an active delivery. */
  activeDeliveryId: string | null;
  idleSince: Date;
  createdAt: Date;
  updatedAt: Date;
}

interface DriverRow {
  driver_id: string;
  name: string;
  status: DriverStatus;
  active_delivery_id: string | null;
  idle_since: Date;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'driver_id, name, status, active_delivery_id, idle_since, created_at, updated_at';

function toDriver(row: DriverRow): Driver {
  return {
    driverId: row.driver_id,
    name: row.name,
    status: row.status,
    activeDeliveryId: row.active_delivery_id,
    idleSince: row.idle_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type UpsertResult = { outcome: 'created' | 'updated' | 'unchanged'; driver: Driver };

/**
 * Creates the driver or replaces its name and duty status. Never touches active_delivery_id: a
 * driver on an active delivery keeps it whatever the new status. A driver coming back on duty
 * starts a fresh idle period (so the longest-idle-first order is fair).
 */
export async function upsertDriver(
  db: Db,
  input: { driverId: string; name: string; status: DriverStatus },
  now: Date,
): Promise<UpsertResult> {
  const written = await db.query<DriverRow & { created: boolean }>(
    `INSERT INTO drivers (driver_id, name, status, idle_since, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $4, $4)
     ON CONFLICT (driver_id) DO UPDATE
       SET name = EXCLUDED.name,
           status = EXCLUDED.status,
           idle_since = CASE WHEN drivers.status = 'OFF_DUTY' AND EXCLUDED.status = 'AVAILABLE'
                             THEN EXCLUDED.idle_since ELSE drivers.idle_since END,
           updated_at = EXCLUDED.updated_at
       WHERE drivers.name IS DISTINCT FROM EXCLUDED.name OR drivers.status IS DISTINCT FROM EXCLUDED.status
     RETURNING ${COLUMNS}, (xmax = 0) AS created`,
    [input.driverId, input.name, input.status, now],
  );
  const row = written.rows[0];
  if (row) return { outcome: row.created ? 'created' : 'updated', driver: toDriver(row) };
  // The WHERE above skipped the update: the driver exists with exactly these values.
  const existing = await getDriver(db, input.driverId);
  if (!existing) throw new Error(`driver ${input.driverId} vanished during upsert`);
  return { outcome: 'unchanged', driver: existing };
}

export async function getDriver(db: Db, driverId: string): Promise<Driver | undefined> {
  const result = await db.query<DriverRow>(`SELECT ${COLUMNS} FROM drivers WHERE driver_id = $1`, [driverId]);
  return result.rows[0] ? toDriver(result.rows[0]) : undefined;
}

/** One page of drivers ordered by id, starting after `after` (keyset paging). */
export async function listDrivers(
  db: Db,
  page: { limit: number; after?: string | undefined },
): Promise<{ drivers: Driver[]; hasMore: boolean }> {
  const result = await db.query<DriverRow>(
    `SELECT ${COLUMNS} FROM drivers
      WHERE $1::text IS NULL OR driver_id > $1::text
      ORDER BY driver_id
      LIMIT $2`,
    [page.after ?? null, page.limit + 1],
  );
  const rows = result.rows.map(toDriver);
  return { drivers: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

/**
 * Locks the assignable driver who has been idle longest, skipping rows another transaction holds.
 *
 * Why no driver is double-booked: a concurrent assigner that locked a driver is skipped, not waited
 * for; and once it commits, the driver's row has a new version with active_delivery_id set, which
 * PostgreSQL re-checks against the WHERE clause before locking it here, so the driver no longer
 * qualifies. The partial unique index on deliveries(driver_id) backs this up durably.
 */
export async function lockAssignableDriver(tx: Db): Promise<CandidateDriver | undefined> {
  const result = await tx.query<{ driver_id: string; name: string }>(
    `SELECT driver_id, name FROM drivers
      WHERE status = 'AVAILABLE' AND active_delivery_id IS NULL
      ORDER BY idle_since, driver_id
      LIMIT 1
      FOR UPDATE SKIP LOCKED`,
  );
  const row = result.rows[0];
  return row ? { driverId: row.driver_id, name: row.name } : undefined;
}

/**
 * Locks these drivers in driverId order (the lock markDriverBusy and releaseDriver take, since
 * active_delivery_id is a unique key). Whoever locks several drivers and may wait for them does it
 * through here first — a batch the drivers its cancellations will free, the seed the drivers it
 * rewrites — so two of them never each hold a driver the other waits for. (lockAssignableDriver
 * skips locked drivers instead of waiting, so it may take them in any order.)
 */
export async function lockDrivers(tx: Db, driverIds: readonly string[]): Promise<void> {
  if (driverIds.length === 0) return;
  await tx.query('SELECT 1 FROM drivers WHERE driver_id = ANY($1::text[]) ORDER BY driver_id FOR UPDATE', [
    [...new Set(driverIds)],
  ]);
}

/** The driver (locked by lockAssignableDriver) takes the delivery. */
export async function markDriverBusy(tx: Db, driverId: string, deliveryId: string, now: Date): Promise<void> {
  const result = await tx.query(
    `UPDATE drivers SET active_delivery_id = $2, updated_at = $3
      WHERE driver_id = $1 AND active_delivery_id IS NULL`,
    [driverId, deliveryId, now],
  );
  if (result.rowCount !== 1)
    throw new Error(`driver ${driverId} was not free to take delivery ${deliveryId}`);
}

/** The driver is free again (keeps its duty status: an OFF_DUTY driver stays off duty). */
export async function releaseDriver(tx: Db, driverId: string, deliveryId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE drivers SET active_delivery_id = NULL, idle_since = $3, updated_at = $3
      WHERE driver_id = $1 AND active_delivery_id = $2`,
    [driverId, deliveryId, now],
  );
}

/** Drivers who could take a delivery right now. */
export async function countAssignableDrivers(db: Db): Promise<number> {
  const result = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM drivers WHERE status = 'AVAILABLE' AND active_delivery_id IS NULL`,
  );
  return result.rows[0]?.n ?? 0;
}
