import type { CassandraCredentials } from '@dispatch/platform';
import { cassandraTestCredentials } from './cassandra-auth';

/**
 * Addresses of the real servers tests talk to. They come from the environment
 * (set by `tools/stack`), with the local launcher's defaults, so the same tests
 * run against a cluster.
 */
export interface StackAddresses {
  kafkaBrokers: string[];
  cassandraContactPoints: string[];
  cassandraLocalDc: string;
  /** Admin login (see cassandra-auth.ts); undefined for a Cassandra without authentication. */
  cassandraCredentials: CassandraCredentials | undefined;
  pg: { host: string; port: number; user: string; password: string };
  redisUrl: string;
}

export function stackAddresses(env: NodeJS.ProcessEnv = process.env): StackAddresses {
  return {
    kafkaBrokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim()),
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
