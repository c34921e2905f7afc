import { z } from 'zod';
import { baseEnv, ConfigError, kafkaEnv, kafkaGroupEnv, parseConfig, pgEnv, redisEnv } from './config';
import { serviceSettings } from './service';

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

  it('has generous per-subject rate limits by default, and refuses a zero limit or a tiny window', () => {
    expect(parseConfig('svc', schema, { PORT: '8081' })).toMatchObject({
      RATE_LIMIT_WINDOW_MS: 60_000,
      RATE_LIMIT_READ: 3_000,
      RATE_LIMIT_WRITE: 600,
    });
    expect(() =>
      parseConfig('svc', schema, { PORT: '8081', RATE_LIMIT_READ: '0', RATE_LIMIT_WINDOW_MS: '10' }),
    ).toThrow(/RATE_LIMIT_WINDOW_MS[\s\S]*RATE_LIMIT_READ|RATE_LIMIT_READ[\s\S]*RATE_LIMIT_WINDOW_MS/);
  });

  it('reports a missing required variable', () => {
    expect(() => parseConfig('svc', schema, {})).toThrow(/PORT/);
  });
});

describe('kafkaGroupEnv', () => {
  it('names the group after the service and handles 3 partitions at once unless told otherwise', () => {
    const schema = z.object({ ...baseEnv, ...kafkaEnv, ...kafkaGroupEnv('svc') });
    expect(parseConfig('svc', schema, { PORT: '8080' })).toMatchObject({
      KAFKA_GROUP_ID: 'svc',
      CONSUMER_CONCURRENCY: 3,
    });
    const wide = z.object({ ...kafkaGroupEnv('svc', 6) });
    expect(parseConfig('svc', wide, {}).CONSUMER_CONCURRENCY).toBe(6);
    expect(parseConfig('svc', wide, { CONSUMER_CONCURRENCY: '2' }).CONSUMER_CONCURRENCY).toBe(2);
    expect(() => parseConfig('svc', wide, { CONSUMER_CONCURRENCY: '65' })).toThrow(/CONSUMER_CONCURRENCY/);
  });

  it('reaches startService through serviceSettings', () => {
    const schema = z.object({ ...baseEnv, ...kafkaEnv, ...kafkaGroupEnv('svc', 5) });
    expect(
      serviceSettings('svc', parseConfig('svc', schema, { PORT: '8080', RATE_LIMIT_WRITE: '7' })),
    ).toMatchObject({
      name: 'svc',
      consumerConcurrency: 5,
      rateLimits: { redisUrl: 'redis://127.0.0.1:6379', windowMs: 60_000, read: 3_000, write: 7 },
    });
  });
});
