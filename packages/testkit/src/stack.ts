import type { CassandraCredentials, KafkaConnection } from '@dispatch/platform';
import { cassandraTestCredentials } from './cassandra-auth';
import { stackKafka } from './kafka-auth';

/**
 * Addresses of the real servers tests talk to. They come from the environment
 * (set by `tools/stack`), with the local launcher's defaults, so the same tests
 * run against a cluster.
 */
export interface StackAddresses {
  /** The brokers and the admin principal's login (kafka-auth.ts): spread it into a client. */
  kafka: KafkaConnection;
  cassandraContactPoints: string[];
  cassandraLocalDc: string;
  /** Admin login (see cassandra-auth.ts); undefined for a Cassandra without authentication. */
  cassandraCredentials: CassandraCredentials | undefined;
  pg: { host: string; port: number; user: string; password: string };
  redisUrl: string;
}

export function stackAddresses(env: NodeJS.ProcessEnv = process.env): StackAddresses {
  return {
    kafka: stackKafka(env),
    cassandraContactPoints: (env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042')
      .split(',')
      .map((s) => s.trim()),
    cassandraLocalDc: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    cassandraCredentials: cassandraTestCredentials(env),
    pg: {
      host: env.PGHOST ?? '127.0.0.1',
      port: Number(env.PGPORT ?? 5432),
      user: env.PGUSER ?? 'postgres',
      password: env.PGPASSWORD ?? '',
    },
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}
