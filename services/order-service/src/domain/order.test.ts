import { randomUUID } from 'node:crypto';
import { parseEnvelope, serializeEnvelope } from '@dispatch/contracts';
import { draftOrder, type NewOrder } from './order';

const input: NewOrder = {
  customerId: 'customer-1',
  currency: 'EUR',
  items: [
    { itemId: 'sku-a', quantity: 3, unitPrice: '2.50' },
    { itemId: 'sku-b', quantity: 1, unitPrice: '0.10' },
  ],
  deliveryAddress: { line1: '1 Street', city: 'London', postcode: 'E1', lat: 51.5, lng: -0.1 },
  paymentMethod: { type: 'card', token: 'tok_visa_4242' },
};

describe('draftOrder', () => {
  const ids = { orderId: randomUUID(), eventId: randomUUID(), createdAt: '2025-01-02T03:04:05.678Z' };
  const draft = draftOrder(input, ids);

  it('totals Σ unitPrice × quantity in minor units', () => {
    expect(draft.totalAmount).toBe('7.60');
    expect(draft.response).toEqual({
      orderId: ids.orderId,
      customerId: 'customer-1',
      totalAmount: '7.60',
      currency: 'EUR',
      status: 'CREATED',
      createdAt: ids.createdAt,
    });
  });

  it('builds an order.created its consumers accept, starting the saga', () => {
    const parsed = parseEnvelope(serializeEnvelope(draft.created));
    expect(parsed.ok).toBe(true);
    expect(draft.created).toMatchObject({
      eventId: ids.eventId,
      eventType: 'order.created',
      orderId: ids.orderId,
      correlationId: ids.orderId,
      occurredAt: ids.createdAt,
      producer: 'order-service',
      payload: {
        customerId: 'customer-1',
        totalAmount: '7.60',
        items: input.items,
        paymentMethod: input.paymentMethod,
      },
    });
    expect(draft.created.causationId).toBeUndefined();
  });

  it("starts the order's fold at CREATED, without the card token", () => {
    expect(draft.status).toBe('CREATED');
    expect(draft.facts.order?.eventId).toBe(ids.eventId);
    expect(JSON.stringify(draft.facts)).not.toContain('tok_visa_4242');
  });
});

describe('draftOrder with lines without unitPrice', () => {
  const ids = { orderId: randomUUID(), eventId: randomUUID(), createdAt: '2025-01-02T03:04:05.678Z' };
  const unpriced: NewOrder = {
    ...input,
    items: [
      { itemId: 'sku-a', quantity: 3, unitPrice: '2.50' },
      { itemId: 'sku-b', quantity: 4, unitPrice: undefined },
    ],
  };
  const draft = draftOrder(unpriced, ids);

  it('totals the priced lines only: the total is provisional', () => {
    expect(draft.totalAmount).toBe('7.50');
    expect(draft.response.totalAmount).toBe('7.50');
  });

  it('sends the unpriced line without a unitPrice key, in an order.created its consumers accept', () => {
    const parsed = parseEnvelope(serializeEnvelope(draft.created));
    expect(parsed.ok).toBe(true);
    expect(draft.created.payload.items).toEqual([
      { itemId: 'sku-a', quantity: 3, unitPrice: '2.50' },
      { itemId: 'sku-b', quantity: 4 },
    ]);
    expect(draft.created.payload.items[1]).not.toHaveProperty('unitPrice');
    expect(draft.lines[1]).not.toHaveProperty('unitPrice');
  });

  it('totals 0.00 when no line has a price', () => {
    const none = draftOrder({ ...input, items: [{ itemId: 'sku-a', quantity: 1 }] }, ids);
    expect(none.totalAmount).toBe('0.00');
    expect(parseEnvelope(serializeEnvelope(none.created)).ok).toBe(true);
  });
});
