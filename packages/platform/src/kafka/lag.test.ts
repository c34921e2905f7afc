import { Registry } from 'prom-client';
import { createConsumerLagMetrics, partitionLag, topicLag } from './lag';

describe('partitionLag', () => {
  it('is the end offset minus the committed offset', () => {
    expect(partitionLag({ low: '0', high: '10' }, '4')).toBe(6);
  });

  it('is 0 when the group is at the end', () => {
    expect(partitionLag({ low: '0', high: '10' }, '10')).toBe(0);
  });

  it('counts the whole log when the group never committed (it starts from the earliest offset)', () => {
    expect(partitionLag({ low: '3', high: '10' }, '-1')).toBe(7);
  });

  it('counts from the log start when retention deleted messages the group never read', () => {
    expect(partitionLag({ low: '50', high: '60' }, '20')).toBe(10);
  });

  it('is never negative (a commit can be ahead of a stale end offset)', () => {
    expect(partitionLag({ low: '0', high: '10' }, '12')).toBe(0);
  });

  it('handles 64-bit offsets without losing precision in the difference', () => {
    expect(partitionLag({ low: '0', high: '9007199254740999' }, '9007199254740990')).toBe(9);
  });
});

describe('topicLag', () => {
  it('gives one entry per partition of the topic, in partition order, missing commits as never committed', () => {
    const ends = [
      { partition: 1, low: '0', high: '5' },
      { partition: 0, low: '0', high: '8' },
      { partition: 2, low: '2', high: '2' },
    ];
    const committed = [
      { partition: 0, offset: '8' },
      { partition: 1, offset: '-1' },
    ];
    expect(topicLag('g', 't', ends, committed)).toEqual([
      { group: 'g', topic: 't', partition: 0, lag: 0 },
      { group: 'g', topic: 't', partition: 1, lag: 5 },
      { group: 'g', topic: 't', partition: 2, lag: 0 },
    ]);
  });
});

describe('createConsumerLagMetrics', () => {
  it('registers the gauge and the error counter once per registry, and reuses them after', async () => {
    const registry = new Registry();
    const first = createConsumerLagMetrics(registry);
    const second = createConsumerLagMetrics(registry);
    expect(second.lag).toBe(first.lag);
    first.lag.set({ group: 'g', topic: 't', partition: '0' }, 3);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE kafka_consumer_lag_messages gauge');
    expect(text).toContain('kafka_consumer_lag_messages{group="g",topic="t",partition="0"} 3');
    expect(text).toContain('# TYPE kafka_consumer_lag_collection_errors_total counter');
  });
});
