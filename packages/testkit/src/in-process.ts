import {
  kafkaConnectionEnv,
  type RunningService,
  type ServiceDefinition,
  type ServiceOverrides,
  startService,
  withServiceOverrides,
} from '@dispatch/platform';
import { type StackAddresses, stackAddresses } from './stack';
import type { TestIssuer } from './tokens';

/**
 * The environment a service's config is parsed from in a test (with `parseConfig` and the service's
 * schema): the stack's addresses and logins as the superuser/admin (PostgreSQL, Kafka SASL, Cassandra,
 * Redis), the test issuer's public JWKS, quiet logs, then `overrides` (an undefined value unsets).
 */
export function testServiceEnv(
  issuer: Pick<TestIssuer, 'env'>,
  overrides: Record<string, string | undefined> = {},
  addresses: StackAddresses = stackAddresses(),
): Record<string, string | undefined> {
  return {
    // The schemas insist on a real port; startInProcess listens on a free one instead.
    PORT: '8080',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PGHOST: addresses.pg.host,
    PGPORT: String(addresses.pg.port),
    PGUSER: addresses.pg.user,
    PGPASSWORD: addresses.pg.password,
    ...kafkaConnectionEnv(addresses.kafka),
    CASSANDRA_CONTACT_POINTS: addresses.cassandraContactPoints.join(','),
    CASSANDRA_LOCAL_DC: addresses.cassandraLocalDc,
    CASSANDRA_USERNAME: addresses.cassandraCredentials?.username,
    CASSANDRA_PASSWORD: addresses.cassandraCredentials?.password,
    REDIS_URL: addresses.redisUrl,
    ...issuer.env,
    ...overrides,
  };
}

/** A service started in-process as main.ts starts it, and the base URL of its HTTP API. */
export interface InProcessService extends RunningService {
  base: string;
}

/**
 * Starts a service definition with platform's startService on a free loopback port, with `overrides`
 * (withServiceOverrides) applied: a group, topics or an event filter of the test's own for its
 * consumers, or an instance without consumers or without background tasks.
 */
export async function startInProcess(
  definition: ServiceDefinition,
  overrides: ServiceOverrides = {},
): Promise<InProcessService> {
  const service = await startService({
    ...withServiceOverrides(definition, overrides),
    port: 0,
    host: '127.0.0.1',
  });
  return Object.assign(service, { base: `http://127.0.0.1:${service.port}` });
}
