import { stopOrder } from './down';

describe('stopOrder', () => {
  it('stops services first, then Cassandra, Kafka, Redis, PostgreSQL', () => {
    expect(stopOrder(['postgres', 'kafka', 'order-service', 'redis', 'cassandra'])).toEqual([
      'order-service',
      'cassandra',
      'kafka',
      'redis',
      'postgres',
    ]);
  });
});
