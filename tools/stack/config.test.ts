import { addressEnv, loadStackConfig, parseHostPort } from './config';
import { ConfigError } from './errors';

describe('loadStackConfig', () => {
  it('defaults to the local servers, all managed locally', () => {
    const config = loadStackConfig({});
    expect(config.kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      local: true,
      partitions: 6,
      replicationFactor: 1,
      secretsDir: expect.stringMatching(/\/\.stack\/secrets\/kafka$/),
    });
    expect(config.cassandra).toMatchObject({
      contactPoints: ['127.0.0.1:9042'],
      localDc: 'datacenter1',
      local: true,
    });
    expect(config.postgres).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      password: '',
      local: true,
    });
    expect(config.postgres.databases).toEqual([
      'order_db',
      'inventory_db',
      'payment_db',
      'delivery_db',
      'webhook_db',
    ]);
    expect(config.postgres.roleSecretsDir).toMatch(/\/\.stack\/secrets\/postgres$/);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', local: true });
  });

  it('treats addresses elsewhere as external (checked, never started)', () => {
    const config = loadStackConfig({
      KAFKA_BROKERS: 'kafka-0:9092,kafka-1:9092',
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:19042',
      PGHOST: 'db.internal',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(config.kafka.local).toBe(false);
    expect(config.kafka.brokers).toEqual(['kafka-0:9092', 'kafka-1:9092']);
    expect(config.kafka.replicationFactor).toBe(3);
    expect(config.cassandra.local).toBe(false);
    expect(config.postgres.local).toBe(false);
    expect(config.redis.local).toBe(false);
  });

  it('accepts localhost spellings and a Unix socket directory as local', () => {
    const config = loadStackConfig({
      KAFKA_BROKERS: ' localhost:9092 ',
      CASSANDRA_CONTACT_POINTS: 'localhost',
      PGHOST: '/var/run/postgresql',
      REDIS_URL: 'redis://localhost',
    });
    expect([config.kafka.local, config.cassandra.local, config.postgres.local, config.redis.local]).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('reads KAFKA_PARTITIONS and rejects nonsense', () => {
    expect(loadStackConfig({ KAFKA_PARTITIONS: '12' }).kafka.partitions).toBe(12);
    expect(() => loadStackConfig({ KAFKA_PARTITIONS: '0' })).toThrow(ConfigError);
    expect(() => loadStackConfig({ KAFKA_PARTITIONS: 'six' })).toThrow(/positive integer/);
    expect(() => loadStackConfig({ KAFKA_BROKERS: ' , ' })).toThrow(/empty/);
    expect(() => loadStackConfig({ REDIS_URL: 'not a url' })).toThrow(/not a URL/);
  });

  it('lists the address variables for .stack/env', () => {
    const env = Object.fromEntries(addressEnv(loadStackConfig({ PGUSER: 'me' })));
    expect(env).toEqual({
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_PARTITIONS: '6',
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042',
      CASSANDRA_LOCAL_DC: 'datacenter1',
      PGHOST: '127.0.0.1',
      PGPORT: '5432',
      PGUSER: 'me',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
  });
});

describe('parseHostPort', () => {
  it('splits host and port, with a default port', () => {
    expect(parseHostPort('kafka:9093', 9092)).toEqual({ host: 'kafka', port: 9093 });
    expect(parseHostPort('kafka', 9092)).toEqual({ host: 'kafka', port: 9092 });
    expect(parseHostPort('[::1]:9042', 1)).toEqual({ host: '::1', port: 9042 });
    expect(parseHostPort('::1', 9042)).toEqual({ host: '::1', port: 9042 });
  });

  it('rejects a bad port', () => {
    expect(() => parseHostPort('kafka:99999', 9092)).toThrow(/invalid port/);
  });
});
