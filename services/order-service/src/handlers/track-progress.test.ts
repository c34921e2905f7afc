import { type AnyEvent, EVENT_TYPES, emptyFacts } from '@dispatch/contracts';
import { SAGA_FINAL_STATUS, SAGA_PATHS, sampleEvents } from '@dispatch/contracts/testing';
import { applyOrderEvent, type OrderProgress } from '../domain/progress';
import { FOLLOWED_EVENT_TYPES, isFollowedEvent } from './track-progress';

describe('the events order-service follows', () => {
  it('are every event type except its own order.* events and the compensations', () => {
    const ignored = ['order.created', 'order.cancelled', 'inventory.released', 'payment.refunded'];
    expect([...FOLLOWED_EVENT_TYPES].sort()).toEqual(EVENT_TYPES.filter((t) => !ignored.includes(t)).sort());
  });

  it.each(SAGA_PATHS)('%s: its own events plus the followed ones reach the final status', (path) => {
    const events = sampleEvents(path);
    const [created] = events as [AnyEvent];
    const seen = events.filter((e) => e.eventType.startsWith('order.') || isFollowedEvent(e));
    let progress: OrderProgress = { facts: emptyFacts(created.orderId), status: 'CREATED' };
    for (const event of seen) progress = applyOrderEvent(progress, event);
    expect(progress.status).toBe(SAGA_FINAL_STATUS[path]);
  });
});
