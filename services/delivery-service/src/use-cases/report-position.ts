import { ConflictError, enqueue, NotFoundError, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import type { Clock } from '../clock';
import { deliveryPhase, type EtaModel, shouldPublishEta } from '../domain/eta';
import { etaUpdatedEvent } from '../domain/events';
import type { LatLng } from '../domain/geo';
import { etaFromPosition, hasArrived } from '../domain/movement';
import { type Delivery, lockActiveDeliveryOfDriver, recordPosition } from '../store/deliveries';
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
    return recordLockedPosition(tx, delivery, position, clock.now(), settings);
  });
}

/**
 * The use-case behind a position report, for an active delivery whose row `tx` holds: store the
 * position, recompute the ETA from it (the remaining distance at the model's speed, after the
 * handling time while still at the depot) and publish eta.updated in the outbox only when that ETA
 * moved by more than the threshold from the last published one, or when the phase changed
 * ASSIGNED → EN_ROUTE. The HTTP route and the simulated fleet both call this.
 */
export async function recordLockedPosition(
  tx: ClientBase,
  delivery: Delivery,
  position: LatLng,
  now: Date,
  settings: PositionSettings,
): Promise<PositionReport> {
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
  if (!publish) {
    const recorded = await recordPosition(tx, delivery.deliveryId, position, now);
    return { delivery: recorded, etaPublished: false, arrived };
  }
  const event = etaUpdatedEvent(
    { orderId: delivery.orderId, correlationId: delivery.correlationId, causationId: delivery.lastEventId },
    { deliveryId: delivery.deliveryId, driverId, driverName, phase, estimatedDeliveryTime: nextEta },
    now,
  );
  const updated = await recordPosition(tx, delivery.deliveryId, position, now, {
    estimatedDeliveryTime: nextEta,
    phase,
    lastEventId: event.eventId,
  });
  await enqueue(tx, [event]);
  return { delivery: updated, etaPublished: true, arrived };
}
