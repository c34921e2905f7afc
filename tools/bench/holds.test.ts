import {
  describeThresholds,
  HOLD_THRESHOLDS,
  type HoldInput,
  highestHoldingRate,
  holdVerdict,
  unexpectedServerErrors,
} from './holds';

const healthy: HoldInput = {
  offeredPerSecond: 100,
  acceptedPerSecond: 99.8,
  assignedPerSecond: 99.5,
  serverErrors: 0,
  networkErrors: 0,
  clientDrops: 0,
  backlog: 0,
  drainTimeoutMs: 60_000,
  sagaP99Ms: 1_400,
  followed: 600,
};

describe('holdVerdict', () => {
  it('holds when every threshold is met, the boundaries included', () => {
    expect(holdVerdict(healthy)).toEqual({ holds: true, reasons: [] });
    expect(
      holdVerdict({ ...healthy, acceptedPerSecond: 95, assignedPerSecond: 95, sagaP99Ms: 2_000 }).holds,
    ).toBe(true);
  });

  it('names every reason it does not', () => {
    expect(
      holdVerdict({
        ...healthy,
        acceptedPerSecond: 94.9,
        assignedPerSecond: 60,
        serverErrors: 3,
        networkErrors: 2,
        clientDrops: 1,
        backlog: 120,
        sagaP99Ms: 2_001,
      }),
    ).toEqual({
      holds: false,
      reasons: [
        'accepted 94.9/s < 95.0/s',
        'DELIVERY_ASSIGNED 60.0/s < 95.0/s',
        '3 POSTs answered 5xx (not 503)',
        '2 POSTs got no answer',
        '1 orders dropped by the client',
        '120 accepted orders not in the read model after 60 s',
        'saga p99 2.00 s > 2 s',
      ],
    });
  });

  it('does not hold when the p99 falls among followed orders that never arrived, or nothing was followed', () => {
    expect(holdVerdict({ ...healthy, sagaP99Ms: null }).reasons).toEqual([
      'saga p99 beyond the wait (followed orders never assigned)',
    ]);
    expect(holdVerdict({ ...healthy, followed: 0, sagaP99Ms: null }).reasons).toEqual([
      'no order was followed',
    ]);
  });

  it('takes other thresholds', () => {
    expect(holdVerdict(healthy, { minAchievedFraction: 0.999, maxSagaP99Ms: 1_000 }).reasons).toEqual([
      'accepted 99.8/s < 99.9/s',
      'DELIVERY_ASSIGNED 99.5/s < 99.9/s',
      'saga p99 1.40 s > 1 s',
    ]);
  });
});

describe('highestHoldingRate', () => {
  it('is the highest offered rate that held, whatever the order of the steps', () => {
    expect(
      highestHoldingRate([
        { offeredPerSecond: 50, holds: true },
        { offeredPerSecond: 200, holds: false },
        { offeredPerSecond: 100, holds: true },
      ]),
    ).toBe(100);
    expect(highestHoldingRate([{ offeredPerSecond: 50, holds: false }])).toBeUndefined();
  });
});

describe('describeThresholds', () => {
  it('spells the thresholds out', () => {
    expect(describeThresholds(HOLD_THRESHOLDS, 60_000)).toBe(
      'accepted/s and DELIVERY_ASSIGNED/s ≥ 95 % of offered; no 5xx but shedding 503s, no network errors or client drops; ' +
        'every accepted order in the read model within the 60 s drain; saga p99 ≤ 2 s',
    );
  });
});

describe('unexpectedServerErrors', () => {
  it('counts every 5xx but the 503 of shed load', () => {
    expect(unexpectedServerErrors({ '201': 90, '503': 7, '500': 2, '502': 1, '429': 4 })).toBe(3);
    expect(unexpectedServerErrors({ '201': 90, '503': 7 })).toBe(0);
  });
});
