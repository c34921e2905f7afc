import { z } from 'zod';
import { cassandraCredentials, cassandraEnv, parseConfig, requireCassandraCredentialPair } from './config';

describe('Cassandra credentials in the config', () => {
  const schema = requireCassandraCredentialPair(
    z.object({ ...cassandraEnv, PORT: z.coerce.number().int().positive() }),
  );

  it('takes both or neither: a login, or an anonymous session', () => {
    const both = parseConfig('svc', schema, {
      PORT: '1',
      CASSANDRA_USERNAME: 'query_api',
      CASSANDRA_PASSWORD: 'pw-from-a-secret',
    });
    expect(cassandraCredentials(both)).toEqual({ username: 'query_api', password: 'pw-from-a-secret' });
    expect(cassandraCredentials(parseConfig('svc', schema, { PORT: '1' }))).toBeUndefined();
  });

  it('refuses one without the other, listed with the other bad variables', () => {
    expect(() => parseConfig('svc', schema, { PORT: '1', CASSANDRA_USERNAME: 'query_api' })).toThrow(
      /CASSANDRA_PASSWORD: set both CASSANDRA_USERNAME and CASSANDRA_PASSWORD/,
    );
    expect(() => parseConfig('svc', schema, { PORT: 'x', CASSANDRA_PASSWORD: 'pw' })).toThrow(
      /PORT[\s\S]*CASSANDRA_PASSWORD: set both/,
    );
    expect(() =>
      parseConfig('svc', schema, { PORT: '1', CASSANDRA_USERNAME: '', CASSANDRA_PASSWORD: '' }),
    ).toThrow(/CASSANDRA_USERNAME/);
  });
});
