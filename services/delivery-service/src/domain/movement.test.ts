import type { EtaModel } from './eta';
import { haversineKm } from './geo';
import {
  ARRIVAL_RADIUS_KM,
  compressTime,
  departureTime,
  etaFromPosition,
  hasArrived,
  moveTowards,
  simulateStep,
} from './movement';

const MINUTE = 60_000;
const depot = { lat: 0, lng: 0 };
// One degree of latitude north of the depot: 111.195 km.
const oneDegreeNorth = { lat: 1, lng: 0 };
const model: EtaModel = { depot, speedKmh: 60, handlingMs: 10 * MINUTE, minRemainingMs: 5 * MINUTE };
const assignedAt = new Date('2026-01-01T12:00:00.000Z');
const at = (ms: number) => new Date(assignedAt.getTime() + ms);

describe('moveTowards', () => {
  it('covers the given distance along the great circle, ending closer by exactly that much', () => {
    const london = { lat: 51.5074, lng: -0.1278 };
    const address = { lat: 51.5202, lng: -0.0977 };
    const total = haversineKm(london, address);
    const halfway = moveTowards(london, address, total / 2);
    expect(haversineKm(london, halfway)).toBeCloseTo(total / 2, 6);
    expect(haversineKm(halfway, address)).toBeCloseTo(total / 2, 6);
  });

  it('stops at the destination and never overshoots it', () => {
    expect(moveTowards(depot, oneDegreeNorth, 500)).toEqual(oneDegreeNorth);
    expect(moveTowards(depot, oneDegreeNorth, haversineKm(depot, oneDegreeNorth))).toEqual(oneDegreeNorth);
  });

  it('stays put for no distance, and when already there', () => {
    expect(moveTowards(depot, oneDegreeNorth, 0)).toEqual(depot);
    expect(moveTowards(oneDegreeNorth, oneDegreeNorth, 3)).toEqual(oneDegreeNorth);
  });

  it('refuses a negative or NaN distance', () => {
    expect(() => moveTowards(depot, oneDegreeNorth, -1)).toThrow(RangeError);
    expect(() => moveTowards(depot, oneDegreeNorth, Number.NaN)).toThrow(RangeError);
  });
});

describe('hasArrived', () => {
  it('within the arrival radius of the address, not beyond', () => {
    const close = moveTowards(oneDegreeNorth, depot, ARRIVAL_RADIUS_KM * 0.9);
    const far = moveTowards(oneDegreeNorth, depot, ARRIVAL_RADIUS_KM * 1.5);
    expect(hasArrived(close, oneDegreeNorth)).toBe(true);
    expect(hasArrived(far, oneDegreeNorth)).toBe(false);
  });
});

describe('etaFromPosition', () => {
  it('at the depot during handling: the departure plus the whole drive (the plan)', () => {
    const eta = etaFromPosition(
      { now: at(MINUTE), assignedAt, position: depot, destination: oneDegreeNorth },
      model,
    );
    // 111.195 km at 60 km/h = 6671.7 s → 6672 s, after 10 min of handling.
    expect(eta.getTime() - assignedAt.getTime()).toBe(10 * MINUTE + 6672_000);
  });

  it('on the way: now plus the remaining distance at the speed, whole seconds rounded up', () => {
    const position = moveTowards(depot, oneDegreeNorth, 60); // one hour of the way done
    const now = at(80 * MINUTE); // but 10 minutes late
    const eta = etaFromPosition({ now, assignedAt, position, destination: oneDegreeNorth }, model);
    const remainingMs = (haversineKm(position, oneDegreeNorth) / 60) * 3_600_000;
    expect(eta.getTime()).toBe(Math.ceil((now.getTime() + remainingMs) / 1000) * 1000);
    expect(eta.getTime() % 1000).toBe(0);
  });

  it('has no floor: at the address the ETA is now', () => {
    const now = at(200 * MINUTE);
    expect(
      etaFromPosition({ now, assignedAt, position: oneDegreeNorth, destination: oneDegreeNorth }, model),
    ).toEqual(now);
  });
});

describe('simulateStep', () => {
  const start = { assignedAt, from: depot, fromAt: assignedAt, destination: oneDegreeNorth };

  it('stays at the depot, ASSIGNED, until handling is done', () => {
    expect(simulateStep({ ...start, now: at(9 * MINUTE) }, model)).toEqual({
      position: depot,
      arrived: false,
      phase: 'ASSIGNED',
    });
  });

  it('then drives at the speed for the time since departure, EN_ROUTE', () => {
    const step = simulateStep({ ...start, now: at(40 * MINUTE) }, model);
    expect(step.phase).toBe('EN_ROUTE');
    expect(step.arrived).toBe(false);
    expect(haversineKm(depot, step.position)).toBeCloseTo(30, 6); // 30 min at 60 km/h
  });

  it('depends on elapsed time only: one long step ends where many short ones do', () => {
    const oneStep = simulateStep({ ...start, now: at(70 * MINUTE) }, model);
    let from = depot;
    let fromAt = assignedAt;
    for (let t = 5 * MINUTE; t <= 70 * MINUTE; t += 5 * MINUTE) {
      const step = simulateStep({ ...start, from, fromAt, now: at(t) }, model);
      from = step.position;
      fromAt = at(t);
    }
    expect(haversineKm(from, oneStep.position)).toBeLessThan(1e-6);
  });

  it('arrives once the drive is done, exactly at the address', () => {
    const step = simulateStep({ ...start, now: at(10 * MINUTE + 6672_000) }, model);
    expect(step).toEqual({ position: oneDegreeNorth, arrived: true, phase: 'EN_ROUTE' });
  });
});

describe('compressTime', () => {
  it('drives faster and handles shorter by the factor, so the plan shrinks by it', () => {
    const fast = compressTime(model, 120);
    expect(fast).toEqual({ depot, speedKmh: 7200, handlingMs: 5000, minRemainingMs: 2500 });
    expect(departureTime(assignedAt, fast)).toEqual(at(5000));
  });

  it('is the identity at 1 and refuses factors below 1', () => {
    expect(compressTime(model, 1)).toEqual(model);
    expect(() => compressTime(model, 0.5)).toThrow(RangeError);
    expect(() => compressTime(model, Number.NaN)).toThrow(RangeError);
  });
});
