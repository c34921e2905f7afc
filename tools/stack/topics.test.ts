import { configsToAlter, planTopics, stackTopics } from './topics';

describe('stackTopics', () => {
  it('has four raw topics with unlimited retention and one DLQ per consuming service, all with the same partitions', () => {
    const topics = stackTopics(6);
    expect(topics.map((t) => t.name)).toEqual([
      'raw.order-events',
      'raw.inventory-events',
      'raw.payment-events',
      'raw.delivery-events',
      'dlq.query-api',
      'dlq.order-service',
      'dlq.payment-service',
      'dlq.inventory-service',
      'dlq.delivery-service',
      'dlq.webhook-service',
    ]);
    expect(new Set(topics.map((t) => t.partitions))).toEqual(new Set([6]));
    expect(
      topics.filter((t) => t.name.startsWith('raw.')).every((t) => t.configs['retention.ms'] === '-1'),
    ).toBe(true);
    expect(
      topics.filter((t) => t.name.startsWith('dlq.')).every((t) => Object.keys(t.configs).length === 0),
    ).toBe(true);
  });
});

describe('planTopics', () => {
  it('creates missing topics, keeps matching ones and reports other partition counts', () => {
    const wanted = stackTopics(6).slice(0, 3);
    const plan = planTopics(
      wanted,
      new Map([
        ['raw.order-events', 6],
        ['raw.inventory-events', 3],
      ]),
    );
    expect(plan.create.map((t) => t.name)).toEqual(['raw.payment-events']);
    expect(plan.existing.map((t) => t.name)).toEqual(['raw.order-events']);
    expect(plan.mismatched).toEqual([{ name: 'raw.inventory-events', wanted: 6, actual: 3 }]);
  });
});

describe('configsToAlter', () => {
  it('returns nothing when the wanted configs are already set', () => {
    expect(
      configsToAlter({ 'retention.ms': '-1', 'cleanup.policy': 'delete' }, { 'retention.ms': '-1' }),
    ).toBe(undefined);
  });

  it('keeps the other overrides when changing one (alterConfigs replaces them all)', () => {
    expect(
      configsToAlter(
        { 'retention.ms': '604800000', 'max.message.bytes': '2000000' },
        { 'retention.ms': '-1' },
      ),
    ).toEqual({ 'retention.ms': '-1', 'max.message.bytes': '2000000' });
  });
});
