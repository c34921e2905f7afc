import { type AnyEvent, ORDER_STATUSES, type OrderStatus } from '@dispatch/contracts';
import { SAGA_FINAL_STATUS, SAGA_PATHS, sampleEvents } from '@dispatch/contracts/testing';
import { applyOrderEvent, type OrderProgress } from './progress';

/** The contract's precedence, lowest first (see deriveStatus). */
const PRECEDENCE: OrderStatus[] = [
  'CREATED',
  'INVENTORY_RESERVED',
  'PAYMENT_AUTHORIZED',
  'DELIVERY_ASSIGNED',
  'INVENTORY_REJECTED',
  'PAYMENT_FAILED',
  'CANCELLED',
  'DELIVERY_FAILED',
  'DELIVERED',
];

function startFrom(created: AnyEvent): OrderProgress {
  return applyOrderEvent(
    {
      facts: { orderId: created.orderId, compensation: { inventoryReleased: false, paymentRefunded: false } },
      status: 'CREATED',
    },
    created,
  );
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('applyOrderEvent', () => {
  it('covers every status in the precedence list', () => {
    expect([...PRECEDENCE].sort()).toEqual([...ORDER_STATUSES].sort());
  });

  it.each(SAGA_PATHS)(
    '%s: reaches the final status in any order and with duplicates, never moving back',
    (path) => {
      const [created, ...rest] = sampleEvents(path);
      for (let seed = 1; seed <= 20; seed += 1) {
        let progress = startFrom(created as AnyEvent);
        const deliveries = shuffled([...rest, ...rest.slice(0, 2)], seed);
        for (const event of deliveries) {
          const next = applyOrderEvent(progress, event);
          expect(PRECEDENCE.indexOf(next.status)).toBeGreaterThanOrEqual(PRECEDENCE.indexOf(progress.status));
          progress = next;
        }
        expect(progress.status).toBe(SAGA_FINAL_STATUS[path]);
      }
    },
  );

  it('counts eta.updated as an assigned delivery even when it overtakes delivery.assigned', () => {
    const events = sampleEvents('happy');
    const created = events.find((e) => e.eventType === 'order.created') as AnyEvent;
    const eta = events.find((e) => e.eventType === 'eta.updated') as AnyEvent;
    expect(applyOrderEvent(startFrom(created), eta).status).toBe('DELIVERY_ASSIGNED');
  });
});
