import { Client, types } from 'cassandra-driver';
import type { HealthCheck } from './health';

export interface CassandraConfig {
  contactPoints: string[];
  localDataCenter: string;
  keyspace?: string;
}

/**
 * A cassandra-driver client with LOCAL_QUORUM by default (LOCAL_ONE is too weak once a
 * cluster has replicas; on a single local node both are the same).
 */
export function createCassandraClient(cfg: CassandraConfig): Client {
  return new Client({
    contactPoints: cfg.contactPoints,
    localDataCenter: cfg.localDataCenter,
    ...(cfg.keyspace ? { keyspace: cfg.keyspace } : {}),
    queryOptions: { consistency: types.consistencies.localQuorum, prepare: true },
    socketOptions: { connectTimeout: 5_000, readTimeout: 12_000 },
  });
}

/** Ready when a query against the node's own system table succeeds. */
export function cassandraHealthCheck(client: Client, name = 'cassandra'): HealthCheck {
  return { name, check: async () => void (await client.execute('SELECT release_version FROM system.local')) };
}
