import { decideAssignment, decideOnOrderCancelled, decideOnPaymentAuthorized } from './assignment';
import { DELIVERY_STATUSES } from './delivery';

const now = new Date('2026-01-01T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const driver = { driverId: 'drv-1', name: 'Ada' };

describe('decideAssignment', () => {
  it('assigns a free driver', () => {
    expect(decideAssignment({ now, deadline: later(60_000), driver, retryIntervalMs: 1000 })).toEqual({
      kind: 'assign',
      driver,
    });
  });

  it('still assigns a free driver at or after the deadline (late beats refunded)', () => {
    expect(decideAssignment({ now, deadline: now, driver, retryIntervalMs: 1000 }).kind).toBe('assign');
    expect(decideAssignment({ now, deadline: later(-5000), driver, retryIntervalMs: 1000 }).kind).toBe(
      'assign',
    );
  });

  it('waits for the next attempt when no driver is free before the deadline', () => {
    expect(
      decideAssignment({ now, deadline: later(60_000), driver: undefined, retryIntervalMs: 2000 }),
    ).toEqual({
      kind: 'wait',
      retryAt: later(2000),
    });
  });

  it('never schedules the next attempt past the deadline', () => {
    expect(decideAssignment({ now, deadline: later(500), driver: undefined, retryIntervalMs: 2000 })).toEqual(
      {
        kind: 'wait',
        retryAt: later(500),
      },
    );
  });

  it('fails with NO_DRIVER_AVAILABLE once the deadline has come without a driver', () => {
    const failed = { kind: 'fail', reason: 'NO_DRIVER_AVAILABLE' };
    expect(decideAssignment({ now, deadline: now, driver: undefined, retryIntervalMs: 2000 })).toEqual(
      failed,
    );
    expect(decideAssignment({ now, deadline: later(-1), driver: undefined, retryIntervalMs: 2000 })).toEqual(
      failed,
    );
  });

  it('with a zero wait, fails at once when no driver is free', () => {
    const deadline = later(0);
    expect(decideAssignment({ now, deadline, driver: undefined, retryIntervalMs: 2000 }).kind).toBe('fail');
  });
});

describe('decideOnPaymentAuthorized', () => {
  const destination = { lat: 51.5, lng: -0.1 };

  it('seeks a driver until now + wait when the address is known', () => {
    expect(
      decideOnPaymentAuthorized({
        now,
        order: { destination, cancelled: false },
        existing: undefined,
        driverWaitMs: 30_000,
      }),
    ).toEqual({ kind: 'seek-driver', deadline: later(30_000) });
  });

  it('parks the delivery when order.created has not been seen', () => {
    expect(
      decideOnPaymentAuthorized({
        now,
        order: { cancelled: false },
        existing: undefined,
        driverWaitMs: 30_000,
      }).kind,
    ).toBe('await-order');
  });

  it('records a cancelled delivery when the order was cancelled first (with or without its address)', () => {
    for (const order of [{ destination, cancelled: true }, { cancelled: true }]) {
      expect(decideOnPaymentAuthorized({ now, order, existing: undefined, driverWaitMs: 30_000 }).kind).toBe(
        'record-cancelled',
      );
    }
  });

  it('does nothing when the order already has a delivery, whatever its status', () => {
    for (const status of DELIVERY_STATUSES) {
      expect(
        decideOnPaymentAuthorized({
          now,
          order: { destination, cancelled: false },
          existing: status,
          driverWaitMs: 1,
        }),
      ).toEqual({ kind: 'already-handled', status });
    }
  });
});

describe('decideOnOrderCancelled', () => {
  it('records the cancel when there is no delivery yet', () => {
    expect(decideOnOrderCancelled(undefined)).toEqual({ kind: 'record' });
  });

  it('cancels a delivery still waiting for its address or a driver', () => {
    expect(decideOnOrderCancelled('AWAITING_ORDER').kind).toBe('cancel-delivery');
    expect(decideOnOrderCancelled('PENDING').kind).toBe('cancel-delivery');
  });

  it('calls off an assigned delivery (the accepted cancel wins) but not a completed one', () => {
    for (const status of ['ASSIGNED', 'EN_ROUTE'] as const) {
      expect(decideOnOrderCancelled(status)).toEqual({ kind: 'call-off-delivery', status });
    }
    expect(decideOnOrderCancelled('COMPLETED')).toEqual({ kind: 'ignore-late', status: 'COMPLETED' });
  });

  it('has nothing to stop when the delivery already failed or was cancelled', () => {
    expect(decideOnOrderCancelled('FAILED').kind).toBe('already-final');
    expect(decideOnOrderCancelled('CANCELLED').kind).toBe('already-final');
  });
});
