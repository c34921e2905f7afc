import { ORDER_STATUSES, type OrderStatus, parseEnvelope, serializeEnvelope } from '@dispatch/contracts';
import { buildCancellation } from './cancellation';
import { type AgedOrder, DEADLINE_EXCEEDED, deadlineCancelRequest, decideDeadline } from './deadline';

const DEADLINE_MS = 15 * 60_000;
const ORDER_ID = '11111111-1111-4111-8111-111111111111';

function orderAt(status: OrderStatus, ageMs: number, extra: Partial<AgedOrder> = {}): AgedOrder {
  return {
    orderId: ORDER_ID,
    customerId: 'customer-1',
    status,
    facts: { orderId: ORDER_ID, compensation: { inventoryReleased: false, paymentRefunded: false } },
    createdEventId: '22222222-2222-4222-8222-222222222222',
    ageMs,
    ...extra,
  };
}

describe('decideDeadline', () => {
  const stuckable: OrderStatus[] = ['CREATED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED'];

  it.each(stuckable)('expires an order stuck in %s past the deadline', (status) => {
    expect(decideDeadline(orderAt(status, DEADLINE_MS + 1), DEADLINE_MS)).toEqual({
      kind: 'expire',
      stuckIn: status,
    });
  });

  it.each(stuckable)('keeps an order in %s up to the deadline itself', (status) => {
    expect(decideDeadline(orderAt(status, DEADLINE_MS), DEADLINE_MS)).toEqual({
      kind: 'keep',
      why: 'within-deadline',
    });
    expect(decideDeadline(orderAt(status, 0), DEADLINE_MS).kind).toBe('keep');
  });

  it.each(ORDER_STATUSES.filter((s) => !stuckable.includes(s)))(
    'never touches an order in %s, however old (a driver has it, or the saga has ended)',
    (status) => {
      expect(decideDeadline(orderAt(status, 100 * DEADLINE_MS), DEADLINE_MS)).toEqual({
        kind: 'keep',
        why: 'not-cancellable',
      });
    },
  );

  it('never cancels an order twice', () => {
    const cancellation = {
      cancelledAt: '2025-01-01T00:00:00.000Z',
      cancelledBy: 'CUSTOMER' as const,
      eventId: 'e',
    };
    expect(decideDeadline(orderAt('CANCELLED', 100 * DEADLINE_MS, { cancellation }), DEADLINE_MS)).toEqual({
      kind: 'keep',
      why: 'not-cancellable',
    });
  });
});

describe('deadlineCancelRequest', () => {
  it('builds an order.cancelled by SYSTEM with reason DEADLINE_EXCEEDED and no actor, caused by order.created', () => {
    const at = '2025-01-01T00:20:00.000Z';
    const request = deadlineCancelRequest({ eventId: '33333333-3333-4333-8333-333333333333', at });
    const order = orderAt('PAYMENT_AUTHORIZED', DEADLINE_MS + 1);
    const { event, progress, recorded } = buildCancellation(order, request);

    expect(parseEnvelope(serializeEnvelope(event)).ok).toBe(true);
    expect(event).toMatchObject({
      eventType: 'order.cancelled',
      eventId: '33333333-3333-4333-8333-333333333333',
      causationId: order.createdEventId,
      correlationId: ORDER_ID,
      producer: 'order-service',
      occurredAt: at,
    });
    expect(event.payload).toEqual({ orderId: ORDER_ID, cancelledBy: 'SYSTEM', reason: DEADLINE_EXCEEDED });
    expect(progress.status).toBe('CANCELLED');
    expect(recorded).toEqual({ cancelledAt: at, cancelledBy: 'SYSTEM', eventId: event.eventId });
  });
});
