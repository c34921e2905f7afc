import {
  authEnv,
  baseEnv,
  type CassandraCredentials,
  cassandraCredentials,
  cassandraEnv,
  type KeyspaceReplication,
  kafkaEnv,
  kafkaGroupEnv,
  requireAuth,
  requireCassandraCredentialPair,
  requireKafkaCredentialPair,
} from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'query-api';

const positiveInt = z.coerce.number().int().positive();

/** Every query-api variable; the auth secret is optional here (the rebuild command needs none). */
export const queryApiBaseConfigSchema = requireKafkaCredentialPair(
  requireCassandraCredentialPair(
    z.object({
      ...baseEnv,
      PORT: baseEnv.PORT.default(8080),
      ...kafkaEnv,
      // The read model does not care about order across partitions: apply many at once.
      ...kafkaGroupEnv(SERVICE_NAME, 8),
      /** Tries per event before it is dead-lettered; high because a Cassandra outage is the usual cause. */
      CONSUMER_MAX_ATTEMPTS: positiveInt.max(1000).default(30),
      /** Orders of one consumed batch the live consumer writes at the same time (per partition). */
      READ_MODEL_APPLY_CONCURRENCY: positiveInt.max(256).default(16),
      ...cassandraEnv,
      /**
       * The control keyspace (generation pointer, migrations); read model tables live in
       * `<keyspace>_g<generation>`. At most 40 characters so the suffix fits Cassandra's 48.
       */
      CASSANDRA_KEYSPACE: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'expected a letter then up to 39 letters, digits or _')
        .default('delivery_query'),
      /** Replication of keyspaces this service creates (existing ones keep theirs). */
      CASSANDRA_REPLICATION_STRATEGY: z
        .enum(['SimpleStrategy', 'NetworkTopologyStrategy'])
        .default('SimpleStrategy'),
      CASSANDRA_REPLICATION_FACTOR: positiveInt.max(99).default(1),
      ...authEnv,
      /** Comment lines sent on idle order streams so proxies keep them open. */
      SSE_HEARTBEAT_MS: positiveInt.default(15_000),
      /** Streams re-read their order this often, to see events another instance applied. */
      SSE_POLL_MS: positiveInt.default(5_000),
      /** Open order streams per instance; more get 503 with Retry-After. */
      SSE_MAX_STREAMS: positiveInt.default(1_000),
      /**
       * Open order streams per customer (token subject) across every instance, counted in Redis; more get
       * 429 with Retry-After.
       */
      SSE_MAX_STREAMS_PER_CUSTOMER: positiveInt.max(10_000).default(5),
      /** How often instances re-read which read-model generation is active (and which one a rebuild fills). */
      READ_MODEL_REFRESH_MS: positiveInt.min(50).default(5_000),
      /** Events a rebuild writes at the same time. */
      REBUILD_APPLY_CONCURRENCY: positiveInt.max(512).default(32),
      /** A rebuild fails when the log yields nothing new for this long before reaching its end offsets. */
      REBUILD_IDLE_TIMEOUT_MS: positiveInt.default(60_000),
      /**
       * The Cassandra role live instances log in as, when a rebuild runs as another (operator) role: the
       * rebuild grants it the new generation's keyspace, which the service role may not create itself.
       */
      REBUILD_GRANT_ROLE: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]{0,47}$/, 'expected a Cassandra role name')
        .optional(),
    }),
  ),
);

/** The service's environment. Every variable has a local default except the auth secret. */
export const queryApiConfigSchema = requireAuth(queryApiBaseConfigSchema);

export type QueryApiConfig = z.infer<typeof queryApiConfigSchema>;

/** Replication for keyspaces the service creates; NetworkTopologyStrategy uses the local data center. */
export function keyspaceReplication(config: QueryApiConfig): KeyspaceReplication {
  if (config.CASSANDRA_REPLICATION_STRATEGY === 'SimpleStrategy') {
    return { class: 'SimpleStrategy', replicationFactor: config.CASSANDRA_REPLICATION_FACTOR };
  }
  return {
    class: 'NetworkTopologyStrategy',
    dataCenters: { [config.CASSANDRA_LOCAL_DC]: config.CASSANDRA_REPLICATION_FACTOR },
  };
}

export function cassandraConnection(config: QueryApiConfig): {
  contactPoints: string[];
  localDataCenter: string;
  credentials: CassandraCredentials | undefined;
} {
  return {
    contactPoints: config.CASSANDRA_CONTACT_POINTS,
    localDataCenter: config.CASSANDRA_LOCAL_DC,
    credentials: cassandraCredentials(config),
  };
}
