import { z } from 'zod';
import { baseEnv, ConfigError, kafkaEnv, parseConfig, pgEnv, redisEnv } from './config';

const schema = z.object({ ...baseEnv, ...kafkaEnv, ...pgEnv, ...redisEnv });

describe('parseConfig', () => {
  it('applies defaults and coerces numbers and lists', () => {
    const config = parseConfig('svc', schema, { PORT: '8081', KAFKA_BROKERS: 'a:9092, b:9093' });
    expect(config.PORT).toBe(8081);
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(config.PGHOST).toBe('127.0.0.1');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('lists every bad variable in one error', () => {
    let caught: unknown;
    try {
      parseConfig('order-service', schema, {
        PORT: 'eighty',
        KAFKA_BROKERS: 'no-port',
        LOG_LEVEL: 'loud',
        REDIS_URL: 'http://x',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((p) => p.variable).sort()).toEqual(
      ['KAFKA_BROKERS.0', 'LOG_LEVEL', 'PORT', 'REDIS_URL'].sort(),
    );
    expect(error.message).toMatch(/^order-service: invalid configuration \(4 problems\)/);
  });

  it('reports a missing required variable', () => {
    expect(() => parseConfig('svc', schema, {})).toThrow(/PORT/);
  });
});
