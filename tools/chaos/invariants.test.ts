import { foldOrder } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import {
  type DeadLetterSeen,
  dlqViolations,
  type OrderEvidence,
  readModelMismatches,
  violations,
} from './invariants';

const delivered = (orderId: string): OrderEvidence => ({
  orderId,
  status: 'DELIVERED',
  payment: { status: 'AUTHORIZED', refunded: false },
  authorizedEvents: 1,
});

describe('violations', () => {
  it('finds none when every order was delivered, charged once, and the stock adds up', () => {
    expect(
      violations([delivered('a'), delivered('b')], { initialAvailable: 10, available: 8, reserved: 0 }),
    ).toEqual([]);
  });

  it('names each broken promise', () => {
    const orders: OrderEvidence[] = [
      { ...delivered('lost'), status: undefined },
      { ...delivered('stuck'), status: 'PAYMENT_AUTHORIZED' },
      { ...delivered('twice'), authorizedEvents: 2 },
      { ...delivered('unpaid'), payment: undefined, authorizedEvents: 0 },
      { ...delivered('refunded'), payment: { status: 'AUTHORIZED', refunded: true } },
    ];
    expect(violations(orders, { initialAvailable: 10, available: 6, reserved: 1 })).toEqual([
      'lost: unknown to query-api, not DELIVERED',
      'stuck: PAYMENT_AUTHORIZED, not DELIVERED',
      'twice: 2 payment.authorized events in its timeline, not 1',
      'unpaid: payment-service has no payment',
      'unpaid: 0 payment.authorized events in its timeline, not 1',
      'refunded: refunded although delivered',
      'stock: 1 still reserved after every order settled',
      'stock: 6 available, expected 10 − 5 sold = 5',
    ]);
  });
});

describe('dlqViolations', () => {
  const poison = { service: 'payment-service', topic: 'raw.order-events', key: 'chaos-poison-1' };
  const seen = (over: Partial<DeadLetterSeen> = {}): DeadLetterSeen => ({
    service: 'payment-service',
    key: 'chaos-poison-1',
    originalTopic: 'raw.order-events',
    reason: 'invalid',
    error: 'invalid JSON',
    ...over,
  });

  it('finds none when exactly the poison was dead-lettered', () => {
    expect(dlqViolations([seen()], [poison])).toEqual([]);
  });

  it('names a dead letter of a real event, and poison that no one dead-lettered', () => {
    expect(
      dlqViolations(
        [seen({ service: 'query-api', key: 'order-7', reason: 'exhausted', error: 'Cassandra down' })],
        [poison],
      ),
    ).toEqual([
      'dlq.query-api: unexpected dead letter of order-7 from raw.order-events (exhausted: Cassandra down)',
      'dlq.payment-service: the poison message on raw.order-events was not dead-lettered',
    ]);
  });
});

describe('readModelMismatches', () => {
  const events = sampleEvents('happy', { orderId: 'o-1', startAt: '2026-12-02T10:00:00.000Z' });
  const served = (): Record<string, unknown> => {
    const view = foldOrder(events);
    return {
      ...view,
      customerId: view.order?.customerId,
      items: view.order?.items,
      deliveryAddress: view.order?.deliveryAddress,
      timeline: events.map((e) => ({ eventId: e.eventId, eventType: e.eventType })),
    };
  };

  it('finds none when the read model is the fold of the events', () => {
    expect(readModelMismatches('o-1', events, served())).toEqual([]);
  });

  it('names a section that differs and the events missing from the timeline', () => {
    const view = served();
    view.payment = null;
    view.timeline = (view.timeline as { eventType: string }[]).filter(
      (e) => e.eventType !== 'payment.authorized',
    );
    const found = readModelMismatches('o-1', events, view);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^o-1: payment is null in the read model, \{.*"status":"AUTHORIZED".*\} in the fold of its events$/,
    );
    expect(found[1]).toBe('o-1: 1 events missing from its timeline (payment.authorized)');
  });

  it('names an order query-api does not know, and one without events', () => {
    expect(readModelMismatches('o-1', events, undefined)).toEqual([
      `o-1: unknown to query-api, though ${events.length} events of it are on the raw topics`,
    ]);
    expect(readModelMismatches('o-2', [], served())).toEqual(['o-2: no event of it on the raw topics']);
  });
});
