import { z } from 'zod';
import { KAFKA_SASL_MECHANISMS, type KafkaEnvConfig } from './kafka/connection';
import type { PgConfig } from './pg';

/** Raised when the environment does not satisfy a service's config schema. Lists every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: { variable: string; message: string }[],
  ) {
    super(
      `${service}: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Parses the environment against a schema; throws ConfigError naming every bad variable. Pure. */
export function parseConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    variable: issue.path.length > 0 ? issue.path.join('.') : '(environment)',
    message: issue.message,
  }));
  throw new ConfigError(service, problems);
}

/**
 * Parses the config once at start. On bad or missing variables it prints one clear
 * message listing all of them and exits non-zero, before anything connects anywhere.
 */
export function loadConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  try {
    return parseConfig(service, schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

const commaList = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1));

const port = z.coerce.number().int().min(1).max(65535);

export const redisEnv = {
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
};

/**
 * The per-subject rate limits every authenticated route of a service counts against (SubjectRateLimits
 * in rate-limit.ts, counted in Redis at REDIS_URL): GET/HEAD/OPTIONS against the read limit, every other
 * method against the write limit, per window. Generous by default: they stop a runaway client, not a
 * busy one.
 */
export const rateLimitEnv = {
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  RATE_LIMIT_READ: z.coerce.number().int().min(1).max(10_000_000).default(3_000),
  RATE_LIMIT_WRITE: z.coerce.number().int().min(1).max(10_000_000).default(600),
};

/** Variables every service reads (Redis: the rate limits count there). */
export const baseEnv = {
  PORT: port,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  ...redisEnv,
  ...rateLimitEnv,
};

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

/**
 * Where Kafka is and how to log in (kafka/connection.ts turns these into a KafkaConnection):
 * KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, the service's own principal, together or neither (a
 * schema spreading these is wrapped in `requireKafkaCredentialPair`); KAFKA_TLS_CA_FILE implies TLS.
 */
export const kafkaEnv = {
  KAFKA_BROKERS: commaList.default(['127.0.0.1:9092']),
  KAFKA_SASL_MECHANISM: z.enum(KAFKA_SASL_MECHANISMS).default('scram-sha-512'),
  KAFKA_SASL_USERNAME: z.string().min(1).max(200).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_TLS: flag.default(false),
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
};

/** Refuses a config with only one of KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. */
export function requireKafkaCredentialPair<S extends z.ZodType<Partial<KafkaEnvConfig>>>(schema: S): S {
  const incomplete = (env: Record<string, unknown>) =>
    (env.KAFKA_SASL_USERNAME === undefined) !== (env.KAFKA_SASL_PASSWORD === undefined);
  return schema.refine((env) => !incomplete(env as Record<string, unknown>), {
    path: ['KAFKA_SASL_PASSWORD'],
    message:
      'set both KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the service’s Kafka principal), or neither',
    // Also when other variables are bad, so one run lists every problem.
    when: (payload) => incomplete(payload.value as Record<string, unknown>),
  });
}

/**
 * The service's consumer group, and how many of its partitions' fetched batches one instance handles
 * at once (CONSUMER_CONCURRENCY; each partition stays in order). With a batch handler, the batches
 * handled at once share one call (one transaction), so more slots mean larger transactions, not more
 * of them; a slow or retrying batch leaves its slot for a lane of its own.
 */
export function kafkaGroupEnv(serviceName: string, partitionsAtOnce = 3) {
  return {
    KAFKA_GROUP_ID: z.string().min(1).max(200).default(serviceName),
    CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(partitionsAtOnce),
  };
}

export const pgEnv = {
  PGHOST: z.string().min(1).default('127.0.0.1'),
  PGPORT: port.default(5432),
  PGUSER: z.string().min(1).default('postgres'),
  PGPASSWORD: z.string().default(''),
  PG_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** false behind a pooler that drops prepared statements between transactions (see PgConfig). */
  PG_PREPARE_STATEMENTS: flag.default(true),
};

/**
 * Where Cassandra is and, with authentication on (PasswordAuthenticator), the role to log in as:
 * CASSANDRA_USERNAME and CASSANDRA_PASSWORD together or neither (a schema spreading these is
 * wrapped in `requireCassandraCredentialPair`).
 */
export const cassandraEnv = {
  CASSANDRA_CONTACT_POINTS: commaList.default(['127.0.0.1:9042']),
  CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
  CASSANDRA_USERNAME: z.string().min(1).optional(),
  CASSANDRA_PASSWORD: z.string().min(1).optional(),
};

interface CassandraCredentialEnv {
  CASSANDRA_USERNAME?: string | undefined;
  CASSANDRA_PASSWORD?: string | undefined;
}

/** Refuses a config with only one of CASSANDRA_USERNAME and CASSANDRA_PASSWORD. */
export function requireCassandraCredentialPair<S extends z.ZodType<CassandraCredentialEnv>>(schema: S): S {
  return schema.refine(
    (env) => (env.CASSANDRA_USERNAME === undefined) === (env.CASSANDRA_PASSWORD === undefined),
    {
      path: ['CASSANDRA_PASSWORD'],
      message:
        'set both CASSANDRA_USERNAME and CASSANDRA_PASSWORD (a role with authentication on), or neither',
      // Also when other variables are bad, so one run lists every problem.
      when: (payload) => {
        const env = payload.value as Record<string, unknown>;
        return (env.CASSANDRA_USERNAME === undefined) !== (env.CASSANDRA_PASSWORD === undefined);
      },
    },
  );
}

/** The login of a config that spreads `cassandraEnv`, or undefined for an anonymous session. */
export function cassandraCredentials(
  config: CassandraCredentialEnv,
): { username: string; password: string } | undefined {
  if (config.CASSANDRA_USERNAME === undefined || config.CASSANDRA_PASSWORD === undefined) return undefined;
  return { username: config.CASSANDRA_USERNAME, password: config.CASSANDRA_PASSWORD };
}

/** PGDATABASE, defaulting to the service's own database (tests and clusters override it). */
export function pgDatabaseEnv(defaultName: string) {
  return {
    PGDATABASE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected 1-63 letters, digits or _')
      .default(defaultName),
  };
}

/** The connection settings of a config that spreads `pgEnv`, in the shape `startService` takes. */
export function pgConnection(config: {
  PGHOST: string;
  PGPORT: number;
  PGUSER: string;
  PGPASSWORD: string;
  PG_POOL_MAX: number;
  PG_PREPARE_STATEMENTS: boolean;
}): Omit<PgConfig, 'database'> {
  return {
    host: config.PGHOST,
    port: config.PGPORT,
    user: config.PGUSER,
    password: config.PGPASSWORD,
    max: config.PG_POOL_MAX,
    prepareStatements: config.PG_PREPARE_STATEMENTS,
  };
}
