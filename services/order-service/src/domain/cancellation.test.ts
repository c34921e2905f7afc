import {
  type AnyEvent,
  ORDER_STATUSES,
  type OrderStatus,
  parseEnvelope,
  serializeEnvelope,
} from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { buildCancellation, type CancellableOrder, cancelledByFor, decideCancellation } from './cancellation';
import { applyOrderEvent } from './progress';

function orderAt(status: OrderStatus, extra: Partial<CancellableOrder> = {}): CancellableOrder {
  return {
    orderId: '11111111-1111-4111-8111-111111111111',
    customerId: 'customer-1',
    status,
    facts: {
      orderId: '11111111-1111-4111-8111-111111111111',
      compensation: { inventoryReleased: false, paymentRefunded: false },
    },
    createdEventId: '22222222-2222-4222-8222-222222222222',
    ...extra,
  };
}

describe('decideCancellation', () => {
  const cancellable: OrderStatus[] = ['CREATED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED'];

  it.each(ORDER_STATUSES.filter((s) => s !== 'CANCELLED'))('%s', (status) => {
    const decision = decideCancellation(orderAt(status));
    expect(decision.kind).toBe(cancellable.includes(status) ? 'accept' : 'too-late');
  });

  it('answers a repeated cancel with the first cancellation', () => {
    const cancellation = {
      cancelledAt: '2025-01-01T00:00:00.000Z',
      cancelledBy: 'CUSTOMER' as const,
      eventId: 'e',
    };
    expect(decideCancellation(orderAt('CANCELLED', { cancellation }))).toEqual({
      kind: 'already-cancelled',
      cancellation,
    });
  });

  it('refuses once a cancelled order was delivered after all (the delivery outranks it)', () => {
    const cancellation = {
      cancelledAt: '2025-01-01T00:00:00.000Z',
      cancelledBy: 'CUSTOMER' as const,
      eventId: 'e',
    };
    expect(decideCancellation(orderAt('DELIVERED', { cancellation })).kind).toBe('too-late');
  });
});

describe('cancelledByFor', () => {
  it('is CUSTOMER for the owner (even an admin owner) and ADMIN for an admin acting for someone else', () => {
    expect(cancelledByFor({ subject: 'c1', isAdmin: false }, 'c1')).toBe('CUSTOMER');
    expect(cancelledByFor({ subject: 'c1', isAdmin: true }, 'c1')).toBe('CUSTOMER');
    expect(cancelledByFor({ subject: 'ops', isAdmin: true }, 'c1')).toBe('ADMIN');
  });
});

describe('buildCancellation', () => {
  it('emits order.cancelled caused by order.created and folds the order to CANCELLED', () => {
    const [created, reserved] = sampleEvents('happy') as [AnyEvent, AnyEvent];
    const progress = applyOrderEvent(
      applyOrderEvent(
        {
          facts: {
            orderId: created.orderId,
            compensation: { inventoryReleased: false, paymentRefunded: false },
          },
          status: 'CREATED',
        },
        created,
      ),
      reserved,
    );
    const order: CancellableOrder = {
      orderId: created.orderId,
      customerId: 'customer-1',
      createdEventId: created.eventId,
      ...progress,
    };
    const at = new Date(Date.parse(reserved.occurredAt) + 1000).toISOString();
    const result = buildCancellation(order, {
      cancelledBy: 'ADMIN',
      actorId: 'ops-1',
      reason: 'fraud check',
      eventId: '33333333-3333-4333-8333-333333333333',
      at,
    });
    expect(parseEnvelope(serializeEnvelope(result.event)).ok).toBe(true);
    expect(result.event).toMatchObject({
      eventType: 'order.cancelled',
      causationId: created.eventId,
      correlationId: created.orderId,
      occurredAt: at,
      payload: { orderId: created.orderId, cancelledBy: 'ADMIN', actorId: 'ops-1', reason: 'fraud check' },
    });
    expect(result.progress.status).toBe('CANCELLED');
    expect(result.recorded).toEqual({ cancelledAt: at, cancelledBy: 'ADMIN', eventId: result.event.eventId });
  });
});
