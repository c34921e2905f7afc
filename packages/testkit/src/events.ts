import {
  type AnyEvent,
  createEvent,
  type EventEnvelope,
  type EventType,
  type PayloadOf,
  topicForEventType,
} from '@dispatch/contracts';
import type { BatchHandler, ConsumedEvent, Logger } from '@dispatch/platform';
import { createTestLogger } from './logger';

/** An order.created as order-service publishes it: the order's own correlationId, no cause. */
export function orderCreatedEvent(
  payload: PayloadOf<'order.created'>,
  opts: { occurredAt?: Date } = {},
): EventEnvelope<'order.created'> {
  return createEvent({
    eventType: 'order.created',
    orderId: payload.orderId,
    correlationId: payload.orderId,
    producer: 'order-service',
    payload,
    ...(opts.occurredAt ? { occurredAt: opts.occurredAt.toISOString() } : {}),
  });
}

/** An event as the consumer runner hands it to a handler: its raw topic, partition 0, a first attempt. */
export function consumedEvent(
  event: AnyEvent,
  opts: { offset?: number | string; attempt?: number; logger?: Logger } = {},
): ConsumedEvent {
  return {
    event,
    topic: topicForEventType(event.eventType),
    partition: 0,
    offset: String(opts.offset ?? 0),
    headers: {},
    logger: opts.logger ?? createTestLogger('consumed-event'),
    attempt: opts.attempt ?? 1,
  };
}

/**
 * A service's batch handler called as its consumer calls it: events of types it does not handle are
 * acknowledged without reaching it (the consumer's eventTypes filter), the rest go to it as one batch,
 * in the order given, at increasing offsets.
 */
export function batchFeeder(
  handler: BatchHandler,
  handledTypes: readonly EventType[],
  logger: Logger = createTestLogger('batch-feeder'),
): (events: readonly AnyEvent[]) => Promise<void> {
  const handled: ReadonlySet<string> = new Set(handledTypes);
  let offset = 0;
  return async (events) => {
    const batch = events.filter((e) => handled.has(e.eventType));
    if (batch.length > 0)
      await handler(batch.map((event) => consumedEvent(event, { offset: offset++, logger })));
  };
}
