import { randomUUID } from 'node:crypto';
import { createEvent } from '@dispatch/contracts';
import { decideCompletion, decideRelease, type ReleaseTrigger, releaseReasonOf } from './release';
import type { ReservationStatus, SeenOrderRecord, TombstoneRecord } from './types';

const lines = [
  { itemId: 'beans', quantity: 2, unitPrice: '12.50' },
  { itemId: 'frother', quantity: 1, unitPrice: '39.99' },
];

const tombstone: TombstoneRecord = {
  orderId: 'o-1',
  orderSeen: false,
  status: 'RELEASED',
  releaseReason: 'ORDER_CANCELLED',
};

function record(status: ReservationStatus, overrides: Partial<SeenOrderRecord> = {}): SeenOrderRecord {
  return {
    orderId: 'o-1',
    status,
    orderSeen: true,
    customerId: 'c-1',
    currency: 'EUR',
    lines: status === 'REJECTED' ? [] : lines,
    ...overrides,
  };
}

describe('decideRelease', () => {
  it('gives back exactly the held lines, with their amount', () => {
    expect(decideRelease(record('RESERVED'), 'PAYMENT_FAILED')).toEqual({
      kind: 'release',
      lines,
      amount: '64.99',
      reason: 'PAYMENT_FAILED',
      customerId: 'c-1',
      currency: 'EUR',
    });
  });

  it('remembers a release that overtook its reservation (a tombstone)', () => {
    expect(decideRelease(undefined, 'ORDER_CANCELLED')).toEqual({
      kind: 'tombstone',
      reason: 'ORDER_CANCELLED',
    });
  });

  it.each([
    ['RELEASED', 'already released'],
    ['REJECTED', 'nothing was reserved (the order was rejected)'],
    ['SOLD', 'already sold (delivered), nothing to give back'],
  ] as const)('releases nothing for a %s order', (status, why) => {
    expect(decideRelease(record(status), 'DELIVERY_FAILED')).toEqual({ kind: 'ignore', why });
  });

  it('releases once however many compensations arrive, in any order', () => {
    // delivery.failed and payment.refunded both undo a failed delivery; only the first finds stock held.
    const first = decideRelease(record('RESERVED'), 'DELIVERY_FAILED');
    expect(first.kind).toBe('release');
    const afterRelease = record('RELEASED', { releaseReason: 'DELIVERY_FAILED' });
    expect(decideRelease(afterRelease, 'DELIVERY_FAILED').kind).toBe('ignore');
    expect(decideRelease(afterRelease, 'ORDER_CANCELLED').kind).toBe('ignore');
    // And a second release after a tombstone does not overwrite it.
    expect(decideRelease(tombstone, 'PAYMENT_FAILED')).toEqual({
      kind: 'ignore',
      why: 'already released (before the order arrived)',
    });
  });
});

describe('decideCompletion', () => {
  it('sells the held lines', () => {
    expect(decideCompletion(record('RESERVED'))).toEqual({ kind: 'sell', lines });
  });

  it('waits for a reservation it has not seen yet', () => {
    expect(decideCompletion(undefined)).toEqual({ kind: 'awaitReservation' });
  });

  it.each(['SOLD', 'RELEASED', 'REJECTED'] as const)('changes nothing for a %s order', (status) => {
    expect(decideCompletion(record(status)).kind).toBe('ignore');
  });

  it('changes nothing for an order whose release came first', () => {
    expect(decideCompletion(tombstone).kind).toBe('ignore');
  });
});

describe('releaseReasonOf', () => {
  const base = { orderId: 'o-1', correlationId: 'o-1', causationId: randomUUID(), producer: 'test' };
  const money = { paymentId: 'p-1', orderId: 'o-1', amount: '64.99', currency: 'EUR' as const };

  it.each<[ReleaseTrigger, string]>([
    [
      createEvent({
        ...base,
        eventType: 'payment.failed',
        payload: { ...money, status: 'FAILED', failureReason: 'card_declined' },
      }),
      'PAYMENT_FAILED',
    ],
    [
      createEvent({
        ...base,
        eventType: 'payment.refunded',
        payload: { ...money, status: 'REFUNDED', refundId: 'r-1', reason: 'ORDER_CANCELLED' },
      }),
      'ORDER_CANCELLED',
    ],
    [
      createEvent({
        ...base,
        eventType: 'payment.refunded',
        payload: { ...money, status: 'REFUNDED', refundId: 'r-1', reason: 'DELIVERY_FAILED' },
      }),
      'DELIVERY_FAILED',
    ],
    [
      createEvent({
        ...base,
        eventType: 'delivery.failed',
        payload: { orderId: 'o-1', deliveryId: 'd-1', status: 'FAILED', reason: 'NO_DRIVER_AVAILABLE' },
      }),
      'DELIVERY_FAILED',
    ],
    [
      createEvent({
        ...base,
        eventType: 'order.cancelled',
        payload: { orderId: 'o-1', cancelledBy: 'CUSTOMER' },
      }),
      'ORDER_CANCELLED',
    ],
  ])('maps %# to its reason', (event, reason) => {
    expect(releaseReasonOf(event)).toBe(reason);
  });
});
