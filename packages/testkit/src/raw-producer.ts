import { randomUUID } from 'node:crypto';
import { type AnyEvent, serializeEnvelope, topicForEventType } from '@dispatch/contracts';
import { createEventProducer, createKafka, type EventProducer, type Logger } from '@dispatch/platform';
import { createTestLogger } from './logger';
import { stackAddresses } from './stack';

/** A producer that feeds contract events to a service under test. */
export interface RawProducer extends EventProducer {
  /**
   * Publishes the events, in order, keyed by orderId as the outbox relays key them, each to its raw
   * topic, or to `topicOf(event)` for a test that runs a service on topics of its own.
   */
  send(events: readonly AnyEvent[], topicOf?: (event: AnyEvent) => string): Promise<void>;
}

/** A connected producer logged in to the stack's Kafka (the admin principal: it may write every raw topic). */
export async function rawProducer(opts: { clientId?: string; logger?: Logger } = {}): Promise<RawProducer> {
  const logger = opts.logger ?? createTestLogger('raw-producer');
  const kafka = createKafka({
    ...stackAddresses().kafka,
    clientId: opts.clientId ?? `test-producer-${randomUUID()}`,
    logger,
  });
  const producer = createEventProducer(kafka, { logger });
  await producer.connect();
  return Object.assign(producer, {
    send: (events: readonly AnyEvent[], topicOf = (event: AnyEvent) => topicForEventType(event.eventType)) =>
      producer.publish(
        events.map((event) => ({
          topic: topicOf(event),
          key: event.orderId,
          value: serializeEnvelope(event),
        })),
      ),
  });
}
