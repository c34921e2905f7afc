import { type DeliveryPhase, type EtaModel, travelTimeMs } from './eta';
import { haversineKm, type LatLng } from './geo';

/**
 * Driver positions: where a driver is on the way from the depot to an order's address, the ETA that
 * follows from a position, and how the simulated fleet moves. Pure; the fleet simulator and the
 * position use-case call these.
 */

/** Within this distance of the address the driver has arrived (GPS noise, the last metres on foot). */
export const ARRIVAL_RADIUS_KM = 0.02;

const SECOND_MS = 1000;
const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
const toDegrees = (radians: number) => (radians * 180) / Math.PI;

/**
 * The point `distanceKm` along the great circle from `from` towards `to`, or `to` itself once the
 * distance covers the whole way (a driver never overshoots the address).
 */
export function moveTowards(from: LatLng, to: LatLng, distanceKm: number): LatLng {
  if (!(distanceKm >= 0)) throw new RangeError(`distanceKm must be >= 0, got ${distanceKm}`);
  const total = haversineKm(from, to);
  if (distanceKm >= total || total === 0) return { lat: to.lat, lng: to.lng };
  if (distanceKm === 0) return { lat: from.lat, lng: from.lng };
  // Intermediate point on the great circle (spherical linear interpolation): f is the fraction of
  // the way, delta the angular distance between the two points.
  const f = distanceKm / total;
  const lat1 = toRadians(from.lat);
  const lng1 = toRadians(from.lng);
  const lat2 = toRadians(to.lat);
  const lng2 = toRadians(to.lng);
  const delta = 2 * Math.asin(Math.min(1, Math.sqrt(haversineTerm(lat1, lng1, lat2, lng2))));
  const a = Math.sin((1 - f) * delta) / Math.sin(delta);
  const b = Math.sin(f * delta) / Math.sin(delta);
  const x = a * Math.cos(lat1) * Math.cos(lng1) + b * Math.cos(lat2) * Math.cos(lng2);
  const y = a * Math.cos(lat1) * Math.sin(lng1) + b * Math.cos(lat2) * Math.sin(lng2);
  const z = a * Math.sin(lat1) + b * Math.sin(lat2);
  return { lat: toDegrees(Math.atan2(z, Math.sqrt(x * x + y * y))), lng: toDegrees(Math.atan2(y, x)) };
}

function haversineTerm(lat1: number, lng1: number, lat2: number, lng2: number): number {
  return (
    Math.sin((lat2 - lat1) / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin((lng2 - lng1) / 2) ** 2
  );
}

export function hasArrived(position: LatLng, destination: LatLng): boolean {
  return haversineKm(position, destination) <= ARRIVAL_RADIUS_KM;
}

/** When the driver leaves the depot: handling is done. */
export function departureTime(assignedAt: Date, model: EtaModel): Date {
  return new Date(assignedAt.getTime() + model.handlingMs);
}

/**
 * The ETA that follows from a reported position: from now (or from the departure, while the driver
 * is still handling the order at the depot), the remaining great-circle distance at the model's
 * speed. Whole seconds, rounded up, like every published ETA. No "never closer than" floor: unlike
 * the depot-only estimate, a position says how far the driver really is.
 */
export function etaFromPosition(
  input: { now: Date; assignedAt: Date; position: LatLng; destination: LatLng },
  model: EtaModel,
): Date {
  const start = Math.max(input.now.getTime(), departureTime(input.assignedAt, model).getTime());
  const travel = travelTimeMs(haversineKm(input.position, input.destination), model.speedKmh);
  return new Date(Math.ceil((start + travel) / SECOND_MS) * SECOND_MS);
}

export interface SimulatedStep {
  position: LatLng;
  arrived: boolean;
  phase: DeliveryPhase;
}

/**
 * Where a simulated driver is at `now`, given where they last reported (`from`, at `fromAt`; the
 * depot at assignment before any report): at the depot until the handling time is over, then
 * driving towards the address at the model's speed for the time since the later of the last report
 * and the departure. The step depends on the elapsed time, not on how often it is called, so a
 * missed tick or another instance taking over does not slow the driver down.
 */
export function simulateStep(
  input: { now: Date; assignedAt: Date; from: LatLng; fromAt: Date; destination: LatLng },
  model: EtaModel,
): SimulatedStep {
  const departure = departureTime(input.assignedAt, model).getTime();
  const now = input.now.getTime();
  if (now < departure) {
    return { position: input.from, arrived: hasArrived(input.from, input.destination), phase: 'ASSIGNED' };
  }
  const drivingMs = Math.max(0, now - Math.max(input.fromAt.getTime(), departure));
  const distanceKm = (model.speedKmh * drivingMs) / 3_600_000;
  const position = moveTowards(input.from, input.destination, distanceKm);
  return { position, arrived: hasArrived(position, input.destination), phase: 'EN_ROUTE' };
}

/**
 * The ETA model with time compressed by `speedUp` (the simulated fleet's demo and test setting):
 * drivers drive `speedUp` times faster and spend 1/speedUp of the time at the depot, and the ETA floor
 * shrinks alike, so every ETA the service publishes stays true for the compressed world. 1 = real time.
 */
export function compressTime(model: EtaModel, speedUp: number): EtaModel {
  if (!(speedUp >= 1)) throw new RangeError(`speedUp must be >= 1, got ${speedUp}`);
  return {
    depot: model.depot,
    speedKmh: model.speedKmh * speedUp,
    handlingMs: Math.round(model.handlingMs / speedUp),
    minRemainingMs: Math.round(model.minRemainingMs / speedUp),
  };
}
