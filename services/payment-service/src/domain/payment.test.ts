import { decideCharge, nextStep, type OrderFacts, type PaymentSnapshot } from './payment';

const chargeRequest = {
  eventId: '00000000-0000-4000-8000-000000000001',
  correlationId: 'order-1',
  amount: '64.99',
  currency: 'EUR' as const,
  requestedAt: new Date('2026-01-01T00:00:00Z'),
};

function facts(overrides: Partial<OrderFacts> = {}): OrderFacts {
  return { orderSeen: true, cardToken: 'tok_visa', chargeRequest, close: null, ...overrides };
}

const cancelled = { reason: 'ORDER_CANCELLED' as const, eventId: '00000000-0000-4000-8000-000000000002' };
const deliveryFailed = {
  reason: 'DELIVERY_FAILED' as const,
  eventId: '00000000-0000-4000-8000-000000000003',
};

function payment(status: PaymentSnapshot['status'], refundStatus: PaymentSnapshot['refundStatus'] = null) {
  return { status, refundStatus };
}

describe('nextStep before any payment exists', () => {
  it('charges when the reservation and the order (with a token) are both known', () => {
    expect(nextStep(facts(), null)).toEqual({ kind: 'start-charge' });
  });

  it('does nothing until inventory.reserved asks for a charge', () => {
    expect(nextStep(facts({ chargeRequest: null }), null)).toEqual({ kind: 'nothing' });
    // A cancellation alone asks for nothing either: there is no request to answer yet.
    expect(nextStep(facts({ chargeRequest: null, close: cancelled }), null)).toEqual({ kind: 'nothing' });
  });

  it('stores the charge request until order.created brings the card token', () => {
    expect(nextStep(facts({ orderSeen: false, cardToken: null }), null)).toEqual({ kind: 'wait-for-order' });
  });

  it('never charges a cancelled order: the request is answered with payment.failed ORDER_CANCELLED', () => {
    expect(nextStep(facts({ close: cancelled }), null)).toEqual({
      kind: 'fail-without-charge',
      reason: 'ORDER_CANCELLED',
    });
    // …also while the charge was still waiting for order.created.
    expect(nextStep(facts({ orderSeen: false, cardToken: null, close: cancelled }), null)).toEqual({
      kind: 'fail-without-charge',
      reason: 'ORDER_CANCELLED',
    });
  });

  it('does not charge after a failed delivery either', () => {
    expect(nextStep(facts({ close: deliveryFailed }), null)).toEqual({
      kind: 'fail-without-charge',
      reason: 'DELIVERY_FAILED',
    });
  });

  it('fails with invalid_payment_method when order.created had no token', () => {
    expect(nextStep(facts({ cardToken: null }), null)).toEqual({
      kind: 'fail-without-charge',
      reason: 'invalid_payment_method',
    });
  });
});

describe('nextStep once the payment exists', () => {
  it('drives a PENDING charge on (in flight, or abandoned by a crashed worker)', () => {
    expect(nextStep(facts(), payment('PENDING'))).toEqual({ kind: 'continue-charge' });
    expect(nextStep(facts({ close: cancelled }), payment('PENDING'))).toEqual({ kind: 'continue-charge' });
  });

  it('is settled after a decision, and a failed payment is never refunded', () => {
    expect(nextStep(facts(), payment('AUTHORIZED'))).toEqual({ kind: 'settled' });
    expect(nextStep(facts(), payment('FAILED'))).toEqual({ kind: 'settled' });
    expect(nextStep(facts({ close: cancelled }), payment('FAILED'))).toEqual({ kind: 'settled' });
  });

  it('refunds an authorized payment once the order is cancelled or its delivery failed', () => {
    expect(nextStep(facts({ close: cancelled }), payment('AUTHORIZED'))).toEqual({
      kind: 'start-refund',
      reason: 'ORDER_CANCELLED',
    });
    expect(nextStep(facts({ close: deliveryFailed }), payment('AUTHORIZED'))).toEqual({
      kind: 'start-refund',
      reason: 'DELIVERY_FAILED',
    });
  });

  it('refunds once: a pending refund is driven on, a finished one is settled', () => {
    expect(nextStep(facts({ close: cancelled }), payment('AUTHORIZED', 'PENDING'))).toEqual({
      kind: 'continue-refund',
    });
    expect(nextStep(facts({ close: cancelled }), payment('AUTHORIZED', 'REFUNDED'))).toEqual({
      kind: 'settled',
    });
  });
});

describe('decideCharge', () => {
  it('authorizes on approval and keeps the gateway reference', () => {
    expect(decideCharge({ outcome: 'approved', reference: 'ch_1' })).toEqual({
      status: 'AUTHORIZED',
      gatewayReference: 'ch_1',
    });
  });

  it('fails with the decline reason or the unavailability reason', () => {
    expect(decideCharge({ outcome: 'declined', reason: 'card_declined' })).toEqual({
      status: 'FAILED',
      failureReason: 'card_declined',
    });
    expect(decideCharge({ outcome: 'unavailable', reason: 'gateway_unavailable' })).toEqual({
      status: 'FAILED',
      failureReason: 'gateway_unavailable',
    });
  });
});
