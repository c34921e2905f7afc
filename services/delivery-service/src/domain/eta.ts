import { haversineKm, type LatLng } from './geo';

/**
 * How an ETA is estimated. Every delivery leaves from one depot; the driver first spends
 * `handlingMs` there (pick-up, loading), then drives the great-circle distance at `speedKmh`.
 */
export interface EtaModel {
  depot: LatLng;
  /** Average driving speed including stops and traffic; > 0. */
  speedKmh: number;
  /** Time at the depot before the driver sets off. */
  handlingMs: number;
  /**
   * The least time an active delivery can still need. Once the planned arrival has passed and the
   * delivery is still not completed, the ETA slides to now + this, so it is never in the past.
   */
  minRemainingMs: number;
}

/** The phase of an active delivery: at the depot until handling is done, then driving. */
export type DeliveryPhase = 'ASSIGNED' | 'EN_ROUTE';

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;

/** Driving time for a distance; rounded up to whole seconds. */
export function travelTimeMs(distanceKm: number, speedKmh: number): number {
  if (!(speedKmh > 0)) throw new RangeError(`speedKmh must be > 0, got ${speedKmh}`);
  return Math.ceil(((distanceKm / speedKmh) * HOUR_MS) / SECOND_MS) * SECOND_MS;
}

/** When the driver should arrive if everything goes to plan: assignedAt + handling + travel. */
export function plannedArrival(assignedAt: Date, destination: LatLng, model: EtaModel): Date {
  const travel = travelTimeMs(haversineKm(model.depot, destination), model.speedKmh);
  return new Date(assignedAt.getTime() + model.handlingMs + travel);
}

/**
 * The estimated delivery time of an active delivery at `now`: the planned arrival, or, when that is
 * less than `minRemainingMs` away (the driver is late), now + minRemainingMs. Whole seconds, rounded up,
 * so an ETA does not jitter by milliseconds between refreshes.
 */
export function estimateDeliveryTime(
  input: { now: Date; assignedAt: Date; destination: LatLng },
  model: EtaModel,
): Date {
  const planned = plannedArrival(input.assignedAt, input.destination, model).getTime();
  const earliest = input.now.getTime() + model.minRemainingMs;
  const eta = Math.max(planned, earliest);
  return new Date(Math.ceil(eta / SECOND_MS) * SECOND_MS);
}

/** ASSIGNED while the driver is still handling the order at the depot, EN_ROUTE after. */
export function deliveryPhase(now: Date, assignedAt: Date, model: EtaModel): DeliveryPhase {
  return now.getTime() - assignedAt.getTime() >= model.handlingMs ? 'EN_ROUTE' : 'ASSIGNED';
}

/** True when the ETA moved (either way) by more than `thresholdMs` since the last one published. */
export function etaMoved(lastPublished: Date, next: Date, thresholdMs: number): boolean {
  return Math.abs(next.getTime() - lastPublished.getTime()) > thresholdMs;
}

/**
 * Whether a refresh publishes eta.updated: when the ETA moved by more than the threshold, or when
 * the delivery changed phase (ASSIGNED → EN_ROUTE, once per delivery) so readers learn the driver left.
 * Small drifts are not published, but they are compared against the last published ETA, so drift
 * that adds up past the threshold is.
 */
export function shouldPublishEta(input: {
  lastPublishedEta: Date;
  nextEta: Date;
  lastPhase: DeliveryPhase;
  nextPhase: DeliveryPhase;
  thresholdMs: number;
}): boolean {
  return (
    input.lastPhase !== input.nextPhase || etaMoved(input.lastPublishedEta, input.nextEta, input.thresholdMs)
  );
}
