import { type OrderEvidence, violations } from './invariants';

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
