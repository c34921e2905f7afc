import { z } from 'zod';
import { parseConfig } from './config';
import { serviceConfigSchema, serviceEnv } from './service-env';

describe('serviceConfigSchema(serviceEnv(...))', () => {
  const schema = serviceConfigSchema({
    ...serviceEnv('demo-service', { port: 8099, database: 'demo_db' }),
    DEMO_LIMIT: z.coerce.number().int().default(3),
  });

  it("gives the service's defaults: its port, group, database, and its own settings", () => {
    const config = parseConfig('demo-service', schema, { AUTH_JWKS_FILE: '/tmp/jwks.json' });
    expect(config).toMatchObject({
      PORT: 8099,
      KAFKA_GROUP_ID: 'demo-service',
      PGDATABASE: 'demo_db',
      DEMO_LIMIT: 3,
    });
  });

  it('wants exactly one token key source and both halves of a Kafka login, in one message', () => {
    expect(() => parseConfig('demo-service', schema, { KAFKA_SASL_USERNAME: 'demo' })).toThrow(
      /AUTH_JWKS_URL[\s\S]*KAFKA_SASL_PASSWORD|KAFKA_SASL_PASSWORD[\s\S]*AUTH_JWKS_URL/,
    );
  });
});
