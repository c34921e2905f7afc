import { CONSUMING_SERVICES, consumedTopics, isConsumingService } from './consumers';
import { RAW_TOPICS, Topics } from './topics';

describe('consumed topics catalogue', () => {
  it('names the six consuming services', () => {
    expect(CONSUMING_SERVICES).toEqual([
      'query-api',
      'order-service',
      'payment-service',
      'inventory-service',
      'delivery-service',
      'webhook-service',
    ]);
    expect(isConsumingService('payment-service')).toBe(true);
    expect(isConsumingService('billing')).toBe(false);
    expect(isConsumingService('toString')).toBe(false);
  });

  it('gives query-api and webhook-service every raw topic and no other service the topic it produces', () => {
    expect(consumedTopics('query-api')).toEqual(RAW_TOPICS);
    expect(consumedTopics('webhook-service')).toEqual(RAW_TOPICS);
    expect(consumedTopics('order-service')).not.toContain(Topics.order);
    expect(consumedTopics('payment-service')).not.toContain(Topics.payment);
    expect(consumedTopics('inventory-service')).not.toContain(Topics.inventory);
    expect(consumedTopics('delivery-service')).toEqual([Topics.order, Topics.payment]);
  });

  it('cannot be changed by a caller', () => {
    expect(() => (consumedTopics('order-service') as string[]).push('raw.anything')).toThrow(TypeError);
  });
});
