import { ConfigError, parseConfig } from '@dispatch/platform';
import { keyspaceReplication, queryApiBaseConfigSchema, queryApiConfigSchema } from './config';

const tokenKeys = { AUTH_JWKS_FILE: '/etc/dispatch/jwks.json' };

describe('query-api config', () => {
  it('has local defaults for everything but the token keys', () => {
    const config = parseConfig('query-api', queryApiConfigSchema, tokenKeys);
    expect(config).toMatchObject({
      PORT: 8080,
      CASSANDRA_KEYSPACE: 'delivery_query',
      KAFKA_GROUP_ID: 'query-api',
      SSE_HEARTBEAT_MS: 15_000,
      SSE_MAX_STREAMS_PER_CUSTOMER: 5,
      READ_MODEL_REFRESH_MS: 5_000,
    });
    expect(keyspaceReplication(config)).toEqual({ class: 'SimpleStrategy', replicationFactor: 1 });
    expect(() => parseConfig('query-api', queryApiConfigSchema, {})).toThrow(/AUTH_JWKS_URL/);
    // The rebuild command needs no token keys.
    expect(parseConfig('query-api', queryApiBaseConfigSchema, {}).CASSANDRA_KEYSPACE).toBe('delivery_query');
  });

  it('keeps room for the generation suffix in the keyspace name and names every bad variable', () => {
    const attempt = () =>
      parseConfig('query-api', queryApiConfigSchema, {
        ...tokenKeys,
        CASSANDRA_KEYSPACE: 'k'.repeat(41),
        SSE_MAX_STREAMS: '0',
        SSE_MAX_STREAMS_PER_CUSTOMER: '0',
        CASSANDRA_REPLICATION_STRATEGY: 'Everywhere',
      });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /CASSANDRA_KEYSPACE[\s\S]*CASSANDRA_REPLICATION_STRATEGY[\s\S]*SSE_MAX_STREAMS[\s\S]*SSE_MAX_STREAMS_PER_CUSTOMER/,
    );
  });

  it('uses the local data center for NetworkTopologyStrategy', () => {
    const config = parseConfig('query-api', queryApiConfigSchema, {
      ...tokenKeys,
      CASSANDRA_REPLICATION_STRATEGY: 'NetworkTopologyStrategy',
      CASSANDRA_REPLICATION_FACTOR: '3',
      CASSANDRA_LOCAL_DC: 'eu1',
    });
    expect(keyspaceReplication(config)).toEqual({
      class: 'NetworkTopologyStrategy',
      dataCenters: { eu1: 3 },
    });
  });
});
