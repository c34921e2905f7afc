import { type AnyEvent, createEvent } from './envelope';
import type { EventType, PayloadOf } from './events';
import { type SagaPath, sampleEvents } from './testing';

// Shared by the fold tests (fold-*.test.ts, order-facts.test.ts): one order, its saga events, and
// further events to build conflicts from.

export const ORDER_ID = 'order-7';
export const START = '2024-02-07T15:00:00.000Z';

export function pathEvents(path: SagaPath): AnyEvent[] {
  return sampleEvents(path, { orderId: ORDER_ID, customerId: 'customer-7', startAt: START });
}

export function find<T extends EventType>(
  events: AnyEvent[],
  eventType: T,
): Extract<AnyEvent, { eventType: T }> {
  const event = events.find((e): e is Extract<AnyEvent, { eventType: T }> => e.eventType === eventType);
  if (!event) throw new Error(`no ${eventType}`);
  return event;
}

/** A further event of the order, e.g. to create conflicts the saga itself would not produce. */
export function extra<T extends EventType>(
  eventType: T,
  payload: PayloadOf<T>,
  occurredAt: string,
  eventId?: string,
): AnyEvent {
  return createEvent({
    eventType,
    orderId: ORDER_ID,
    correlationId: ORDER_ID,
    causationId: eventType === 'order.created' ? undefined : '6f1c2b1e-8c55-4a43-9c57-0f0f6f3f2a10',
    producer: 'test',
    payload,
    occurredAt,
    ...(eventId ? { eventId } : {}),
  }) as AnyEvent;
}

export const at = (seconds: number) => new Date(Date.parse(START) + seconds * 1000).toISOString();
