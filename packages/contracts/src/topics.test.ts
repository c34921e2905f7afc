import { EVENT_TYPES } from './events';
import {
  DlqHeader,
  dlqTopic,
  isRawTopic,
  RAW_TOPICS,
  TopicNameError,
  Topics,
  TRACEPARENT_HEADER,
  topicForEventType,
  topicOwner,
} from './topics';

describe('topics', () => {
  it('names the four raw topics', () => {
    expect(RAW_TOPICS).toEqual([
      'raw.order-events',
      'raw.inventory-events',
      'raw.payment-events',
      'raw.delivery-events',
    ]);
  });

  it.each([
    ['order.created', Topics.order],
    ['order.cancelled', Topics.order],
    ['inventory.reserved', Topics.inventory],
    ['inventory.rejected', Topics.inventory],
    ['inventory.released', Topics.inventory],
    ['payment.authorized', Topics.payment],
    ['payment.failed', Topics.payment],
    ['payment.refunded', Topics.payment],
    ['delivery.assigned', Topics.delivery],
    ['eta.updated', Topics.delivery],
    ['delivery.failed', Topics.delivery],
    ['delivery.completed', Topics.delivery],
  ] as const)('routes %s to %s', (eventType, topic) => {
    expect(topicForEventType(eventType)).toBe(topic);
  });

  it('routes every event type to a raw topic', () => {
    for (const eventType of EVENT_TYPES) expect(RAW_TOPICS).toContain(topicForEventType(eventType));
  });

  it('names the one owner of each raw topic, and only raw topics have one', () => {
    expect(RAW_TOPICS.map(topicOwner)).toEqual([
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
    ]);
    expect(RAW_TOPICS.every(isRawTopic)).toBe(true);
    expect(isRawTopic('dlq.payment-service')).toBe(false);
    expect(isRawTopic('toString')).toBe(false);
  });

  it('names DLQ topics per service and refuses names Kafka would reject', () => {
    expect(dlqTopic('payment-service')).toBe('dlq.payment-service');
    expect(() => dlqTopic('')).toThrow(TopicNameError);
    expect(() => dlqTopic('payment service')).toThrow(TopicNameError);
    expect(() => dlqTopic('a/b')).toThrow(TopicNameError);
  });

  it('exposes the header names', () => {
    expect(DlqHeader).toEqual({
      originalTopic: 'x-original-topic',
      originalPartition: 'x-original-partition',
      originalOffset: 'x-original-offset',
      error: 'x-error',
      retryCount: 'x-retry-count',
      failedAt: 'x-failed-at',
    });
    expect(TRACEPARENT_HEADER).toBe('traceparent');
  });
});
