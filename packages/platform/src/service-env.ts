import { z } from 'zod';
import { authEnv, requireAuth } from './auth';
import { baseEnv, kafkaEnv, kafkaGroupEnv, pgDatabaseEnv, pgEnv, requireKafkaCredentialPair } from './config';

/**
 * The variables of a service with an API, consumers and a PostgreSQL database of its own, in the
 * order every such service lists them: baseEnv with the service's PORT, Kafka with its consumer
 * group, PostgreSQL with its database, auth. The service's own settings follow in its schema.
 */
export function serviceEnv(name: string, defaults: { port: number; database: string }) {
  return {
    ...baseEnv,
    PORT: baseEnv.PORT.default(defaults.port),
    ...kafkaEnv,
    ...kafkaGroupEnv(name),
    ...pgEnv,
    ...pgDatabaseEnv(defaults.database),
    ...authEnv,
  };
}

type ServiceEnvShape = ReturnType<typeof serviceEnv>;

/**
 * A service's environment schema from `serviceEnv` and its own settings, with the rules across
 * variables every service has: exactly one token key source (requireAuth), both halves of a Kafka
 * login or neither (requireKafkaCredentialPair).
 */
export function serviceConfigSchema<S extends ServiceEnvShape>(shape: S): z.ZodObject<S> {
  // The refinements read only serviceEnv's variables, which S holds; zod cannot see that through S.
  const schema = z.object(shape) as unknown as z.ZodObject<ServiceEnvShape>;
  return requireAuth(requireKafkaCredentialPair(schema)) as unknown as z.ZodObject<S>;
}
