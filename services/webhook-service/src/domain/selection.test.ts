import { createEvent } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import { customerIdOf, selectEndpoints, webhookBody } from './selection';

const all = {
  id: 'all',
  enabled: true,
  eventTypes: ['order.created', 'delivery.completed'],
  customerId: null,
};
const mine = { id: 'mine', enabled: true, eventTypes: ['order.created'], customerId: 'customer-1' };
const off = { id: 'off', enabled: false, eventTypes: ['order.created'], customerId: null };
const other = { id: 'other', enabled: true, eventTypes: ['payment.failed'], customerId: null };

describe('selectEndpoints', () => {
  it('picks enabled endpoints subscribed to the type, for the customer when filtered', () => {
    const endpoints = [all, mine, off, other];
    expect(selectEndpoints(endpoints, 'order.created', 'customer-1').map((e) => e.id)).toEqual([
      'all',
      'mine',
    ]);
    expect(selectEndpoints(endpoints, 'order.created', 'customer-2').map((e) => e.id)).toEqual(['all']);
    expect(selectEndpoints(endpoints, 'delivery.completed', 'customer-1').map((e) => e.id)).toEqual(['all']);
    expect(selectEndpoints(endpoints, 'payment.failed', null).map((e) => e.id)).toEqual(['other']);
  });

  it('an unknown owner matches only unfiltered endpoints', () => {
    expect(selectEndpoints([all, mine], 'order.created', null).map((e) => e.id)).toEqual(['all']);
  });
});

describe('webhookBody', () => {
  const event = createEvent({
    eventType: 'order.created',
    orderId: 'order-1',
    correlationId: 'order-1',
    producer: 'order-service',
    payload: sampleOrderCreatedPayload('order-1', 'customer-1'),
  });

  it('carries the event identity and payload, never the card token', () => {
    const body = webhookBody(event);
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({
      id: event.eventId,
      type: 'order.created',
      orderId: 'order-1',
      occurredAt: event.occurredAt,
      correlationId: event.correlationId,
      causationId: null,
      data: { customerId: 'customer-1', paymentMethod: { type: 'card' } },
    });
    expect(body).not.toContain('tok_visa_4242_sample');
    expect(customerIdOf(event)).toBe('customer-1');
  });
});
