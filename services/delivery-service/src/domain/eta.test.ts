import {
  deliveryPhase,
  type EtaModel,
  estimateDeliveryTime,
  etaMoved,
  plannedArrival,
  shouldPublishEta,
  travelTimeMs,
} from './eta';

const MINUTE = 60_000;
// One degree of latitude north of the depot: 111.195 km.
const depot = { lat: 0, lng: 0 };
const oneDegreeNorth = { lat: 1, lng: 0 };
const model: EtaModel = { depot, speedKmh: 60, handlingMs: 10 * MINUTE, minRemainingMs: 5 * MINUTE };
const assignedAt = new Date('2026-01-01T12:00:00.000Z');

describe('travelTimeMs', () => {
  it('is distance over speed, rounded up to whole seconds', () => {
    expect(travelTimeMs(30, 60)).toBe(30 * MINUTE);
    expect(travelTimeMs(0.0001, 60)).toBe(1000);
    expect(travelTimeMs(0, 60)).toBe(0);
  });

  it('rejects a speed that is not positive', () => {
    expect(() => travelTimeMs(1, 0)).toThrow(RangeError);
    expect(() => travelTimeMs(1, -5)).toThrow(RangeError);
  });
});

describe('plannedArrival', () => {
  it('is assignment + handling + travel from the depot', () => {
    const planned = plannedArrival(assignedAt, oneDegreeNorth, model);
    // 111.195 km at 60 km/h = 111.195 min = 6671.7 s → 6672 s.
    expect(planned.getTime() - assignedAt.getTime()).toBe(10 * MINUTE + 6672_000);
  });

  it('is just the handling time for an address at the depot', () => {
    expect(plannedArrival(assignedAt, depot, model).getTime()).toBe(assignedAt.getTime() + 10 * MINUTE);
  });
});

describe('estimateDeliveryTime', () => {
  it('is the planned arrival at assignment time', () => {
    const eta = estimateDeliveryTime({ now: assignedAt, assignedAt, destination: oneDegreeNorth }, model);
    expect(eta).toEqual(plannedArrival(assignedAt, oneDegreeNorth, model));
  });

  it('does not change while the plan still holds', () => {
    const at = (ms: number) =>
      estimateDeliveryTime(
        { now: new Date(assignedAt.getTime() + ms), assignedAt, destination: oneDegreeNorth },
        model,
      );
    expect(at(30 * MINUTE)).toEqual(at(0));
    expect(at(60 * MINUTE)).toEqual(at(0));
  });

  it('slides to now + minRemaining once the driver is late, so it is never in the past', () => {
    const planned = plannedArrival(assignedAt, oneDegreeNorth, model).getTime();
    const now = new Date(planned + 20 * MINUTE);
    const eta = estimateDeliveryTime({ now, assignedAt, destination: oneDegreeNorth }, model);
    expect(eta.getTime()).toBe(now.getTime() + 5 * MINUTE);
  });

  it('never promises less than minRemaining, even for a short trip', () => {
    const tiny: EtaModel = { ...model, handlingMs: 0 };
    const eta = estimateDeliveryTime({ now: assignedAt, assignedAt, destination: depot }, tiny);
    expect(eta.getTime()).toBe(assignedAt.getTime() + 5 * MINUTE);
  });

  it('rounds up to whole seconds', () => {
    const now = new Date('2026-01-01T12:00:00.250Z');
    const eta = estimateDeliveryTime(
      { now, assignedAt: now, destination: depot },
      { ...model, handlingMs: 0 },
    );
    expect(eta.toISOString()).toBe('2026-01-01T12:05:01.000Z');
  });

  it('grows with distance and shrinks with speed', () => {
    const near = estimateDeliveryTime(
      { now: assignedAt, assignedAt, destination: { lat: 0.1, lng: 0 } },
      model,
    );
    const far = estimateDeliveryTime({ now: assignedAt, assignedAt, destination: oneDegreeNorth }, model);
    const fast = estimateDeliveryTime(
      { now: assignedAt, assignedAt, destination: oneDegreeNorth },
      { ...model, speedKmh: 120 },
    );
    expect(far.getTime()).toBeGreaterThan(near.getTime());
    expect(fast.getTime()).toBeLessThan(far.getTime());
  });
});

describe('deliveryPhase', () => {
  it('is ASSIGNED during handling and EN_ROUTE from the moment it is done', () => {
    expect(deliveryPhase(assignedAt, assignedAt, model)).toBe('ASSIGNED');
    expect(deliveryPhase(new Date(assignedAt.getTime() + 10 * MINUTE - 1), assignedAt, model)).toBe(
      'ASSIGNED',
    );
    expect(deliveryPhase(new Date(assignedAt.getTime() + 10 * MINUTE), assignedAt, model)).toBe('EN_ROUTE');
  });
});

describe('ETA-moved rule', () => {
  const last = new Date('2026-01-01T13:00:00Z');
  const plus = (ms: number) => new Date(last.getTime() + ms);

  it('moved only when the difference exceeds the threshold, in either direction', () => {
    expect(etaMoved(last, plus(0), MINUTE)).toBe(false);
    expect(etaMoved(last, plus(MINUTE), MINUTE)).toBe(false);
    expect(etaMoved(last, plus(MINUTE + 1000), MINUTE)).toBe(true);
    expect(etaMoved(last, plus(-MINUTE - 1000), MINUTE)).toBe(true);
  });

  it('with a zero threshold, any change counts', () => {
    expect(etaMoved(last, plus(1000), 0)).toBe(true);
    expect(etaMoved(last, plus(0), 0)).toBe(false);
  });

  it('publishes when the ETA moved past the threshold', () => {
    const base = {
      lastPublishedEta: last,
      lastPhase: 'EN_ROUTE' as const,
      nextPhase: 'EN_ROUTE' as const,
      thresholdMs: MINUTE,
    };
    expect(shouldPublishEta({ ...base, nextEta: plus(30_000) })).toBe(false);
    expect(shouldPublishEta({ ...base, nextEta: plus(2 * MINUTE) })).toBe(true);
  });

  it('publishes the phase change ASSIGNED → EN_ROUTE even with the same ETA', () => {
    expect(
      shouldPublishEta({
        lastPublishedEta: last,
        nextEta: last,
        lastPhase: 'ASSIGNED',
        nextPhase: 'EN_ROUTE',
        thresholdMs: MINUTE,
      }),
    ).toBe(true);
  });

  it('compares with the last published ETA, so small drifts add up until they cross the threshold', () => {
    let published = last;
    const emitted: number[] = [];
    for (let step = 1; step <= 6; step += 1) {
      const next = plus(step * 25_000); // drifts 25 s per refresh
      if (
        shouldPublishEta({
          lastPublishedEta: published,
          nextEta: next,
          lastPhase: 'EN_ROUTE',
          nextPhase: 'EN_ROUTE',
          thresholdMs: MINUTE,
        })
      ) {
        emitted.push(step);
        published = next;
      }
    }
    expect(emitted).toEqual([3, 6]);
  });
});
