import { type AnyEvent, createEvent, type EventEnvelope } from './envelope';
import type { EventType, PayloadOf } from './events';
import { topicForEventType, topicOwner } from './topics';

/**
 * The event a saga step produces because of `cause`: same order and saga (orderId, correlationId),
 * caused by it, produced by the owner of its raw topic (the only producer its consumers accept).
 */
export function followUp<T extends EventType>(
  cause: AnyEvent,
  eventType: T,
  payload: PayloadOf<T>,
): EventEnvelope<T> {
  return createEvent({
    eventType,
    orderId: cause.orderId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    producer: topicOwner(topicForEventType(eventType)),
    payload,
  });
}
