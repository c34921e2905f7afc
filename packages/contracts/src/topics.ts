import type { EventType } from './events';

/** The four raw topics; every message is keyed by orderId. */
export const Topics = {
  order: 'raw.order-events',
  inventory: 'raw.inventory-events',
  payment: 'raw.payment-events',
  delivery: 'raw.delivery-events',
} as const;

export type RawTopic = (typeof Topics)[keyof typeof Topics];

export const RAW_TOPICS: RawTopic[] = [Topics.order, Topics.inventory, Topics.payment, Topics.delivery];

/** Each event type lives on the topic of the step that produces it. */
const TOPIC_BY_EVENT_TYPE: Readonly<Record<EventType, RawTopic>> = Object.freeze({
  'order.created': Topics.order,
  'order.cancelled': Topics.order,
  'inventory.reserved': Topics.inventory,
  'inventory.rejected': Topics.inventory,
  'inventory.released': Topics.inventory,
  'payment.authorized': Topics.payment,
  'payment.failed': Topics.payment,
  'payment.refunded': Topics.payment,
  'delivery.assigned': Topics.delivery,
  'eta.updated': Topics.delivery,
  'delivery.failed': Topics.delivery,
  'delivery.completed': Topics.delivery,
});

export function topicForEventType(eventType: EventType): RawTopic {
  return TOPIC_BY_EVENT_TYPE[eventType];
}

/** The one service that writes each raw topic: an event on it must name this service as its producer. */
const OWNER_BY_TOPIC: Readonly<Record<RawTopic, string>> = Object.freeze({
  [Topics.order]: 'order-service',
  [Topics.inventory]: 'inventory-service',
  [Topics.payment]: 'payment-service',
  [Topics.delivery]: 'delivery-service',
});

export function isRawTopic(topic: string): topic is RawTopic {
  return Object.hasOwn(OWNER_BY_TOPIC, topic);
}

/** The service that owns (alone produces to) a raw topic. */
export function topicOwner(topic: RawTopic): string {
  return OWNER_BY_TOPIC[topic];
}

export class TopicNameError extends Error {
  override readonly name = 'TopicNameError';
}

// Kafka topic names: [a-zA-Z0-9._-], at most 249 characters.
const SERVICE_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,240}$/;

/** The dead-letter topic of one consuming service, e.g. dlqTopic('payment-service') → 'dlq.payment-service'. */
export function dlqTopic<S extends string>(service: S): `dlq.${S}` {
  if (!SERVICE_NAME_PATTERN.test(service)) {
    throw new TopicNameError(`invalid service name for a DLQ topic: '${service}'`);
  }
  return `dlq.${service}`;
}

/** Headers on every dead letter; the value is the original message's bytes. */
export const DlqHeader = {
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  error: 'x-error',
  retryCount: 'x-retry-count',
  failedAt: 'x-failed-at',
} as const;

/** W3C trace context travels in this Kafka header, not in the envelope. */
export const TRACEPARENT_HEADER = 'traceparent';
