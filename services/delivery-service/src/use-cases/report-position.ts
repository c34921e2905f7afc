import type { EventEnvelope } from '@dispatch/contracts';
import { ConflictError, enqueue, NotFoundError, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import type { Clock } from '../clock';
import { deliveryPhase, type EtaModel, shouldPublishEta } from '../domain/eta';
import { etaUpdatedEvent } from '../domain/events';
import type { LatLng } from '../domain/geo';
import { etaFromPosition, hasArrived } from '../domain/movement';
import { lockActiveDeliveryOfDriver, type PositionWrite, recordPositions } from '../store/active-deliveries';
import type { Delivery } from '../store/deliveries';
import { getDriver } from '../store/drivers';

export interface PositionSettings {
  etaModel: EtaModel;
  /** eta.updated goes out only when the ETA moved by more than this since the last one published. */
  changeThresholdMs: number;
}

export interface PositionReport {
  delivery: Delivery;
  /** The eta.updated this report caused, if the ETA moved past the threshold or the phase changed. */
  etaPublished: boolean;
  /** Within the arrival radius of the address (the caller decides whether that completes it). */
  arrived: boolean;
}

/**
 * POST /api/drivers/{driverId}/position: a driver's app reports where the driver is. 404 for an
 * unknown driver, 409 `driver-not-on-delivery` when the driver has no active delivery (nothing to
 * track; an idle driver's position is not kept). One transaction: the delivery is locked first, as
 * every writer of deliveries and drivers does.
 */
export async function reportDriverPosition(
  pool: Pool,
  clock: Clock,
  settings: PositionSettings,
  driverId: string,
  position: LatLng,
): Promise<PositionReport> {
  return withTransaction(pool, async (tx) => {
    const delivery = await lockActiveDeliveryOfDriver(tx, driverId);
    if (!delivery) {
      if (!(await getDriver(tx, driverId))) throw new NotFoundError(`No driver ${driverId}.`);
      throw new ConflictError(`Driver ${driverId} is not on an active delivery.`, 'driver-not-on-delivery');
    }
    const [report] = await recordLockedPositions(tx, [{ delivery, position }], clock.now(), settings);
    if (!report) throw new Error(`the position of delivery ${delivery.deliveryId} was not recorded`);
    return report;
  });
}

/**
 * The use-case behind position reports, for active deliveries whose rows `tx` holds: store each
 * position, recompute the ETA from it (the remaining distance at the model's speed, after the
 * handling time while still at the depot) and publish eta.updated in the outbox only when that ETA
 * moved by more than the threshold from the last published one, or when the phase changed
 * ASSIGNED → EN_ROUTE. The HTTP route calls it with one report, the simulated fleet with every
 * delivery it moves in a tick: the positions go into one statement, the events into one insert.
 */
export async function recordLockedPositions(
  tx: ClientBase,
  reports: readonly { delivery: Delivery; position: LatLng }[],
  now: Date,
  settings: PositionSettings,
): Promise<PositionReport[]> {
  const decided = reports.map(({ delivery, position }) => decidePosition(delivery, position, now, settings));
  const stored = await recordPositions(
    tx,
    decided.map((d) => d.write),
    now,
  );
  const events = decided.flatMap((d) => (d.event ? [d.event] : []));
  await enqueue(tx, events);
  return decided.map(({ write, event, arrived }) => {
    const delivery = stored.get(write.deliveryId);
    if (!delivery) throw new Error(`delivery ${write.deliveryId} was not stored`);
    return { delivery, etaPublished: event !== undefined, arrived };
  });
}

/** One report's write and eta.updated (if any): everything but the I/O. */
function decidePosition(
  delivery: Delivery,
  position: LatLng,
  now: Date,
  settings: PositionSettings,
): { write: PositionWrite; event?: EventEnvelope<'eta.updated'>; arrived: boolean } {
  const { assignedAt, destination, estimatedDeliveryTime, driverId, driverName, status } = delivery;
  if (status !== 'ASSIGNED' && status !== 'EN_ROUTE') {
    throw new ConflictError(`The delivery of order ${delivery.orderId} is ${status}.`, 'delivery-not-active');
  }
  if (!assignedAt || !destination || !estimatedDeliveryTime || !driverId || !driverName) {
    throw new Error(`active delivery ${delivery.deliveryId} lacks its assignment data`);
  }
  const nextEta = etaFromPosition({ now, assignedAt, position, destination }, settings.etaModel);
  // Phase by the clock, as the depot model has it, and only ever forward: a driver reporting from the
  // depot after the handling time is EN_ROUTE, and a delivery once EN_ROUTE stays so.
  const phase = status === 'EN_ROUTE' ? 'EN_ROUTE' : deliveryPhase(now, assignedAt, settings.etaModel);
  const publish = shouldPublishEta({
    lastPublishedEta: estimatedDeliveryTime,
    nextEta,
    lastPhase: status,
    nextPhase: phase,
    thresholdMs: settings.changeThresholdMs,
  });
  const arrived = hasArrived(position, destination);
  const write: PositionWrite = { deliveryId: delivery.deliveryId, position };
  if (!publish) return { write, arrived };
  const event = etaUpdatedEvent(
    { orderId: delivery.orderId, correlationId: delivery.correlationId, causationId: delivery.lastEventId },
    { deliveryId: delivery.deliveryId, driverId, driverName, phase, estimatedDeliveryTime: nextEta },
    now,
  );
  write.published = { estimatedDeliveryTime: nextEta, phase, lastEventId: event.eventId };
  return { write, event, arrived };
}
