import { auth, Client, types } from 'cassandra-driver';
import type { HealthCheck } from './health';

/** A Cassandra role's login (PasswordAuthenticator). */
export interface CassandraCredentials {
  username: string;
  password: string;
}

export interface CassandraConfig {
  contactPoints: string[];
  localDataCenter: string;
  keyspace?: string;
  /** Without it the session is anonymous, which a cluster with authentication refuses. */
  credentials?: CassandraCredentials | undefined;
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
    ...(cfg.credentials
      ? { authProvider: new auth.PlainTextAuthProvider(cfg.credentials.username, cfg.credentials.password) }
      : {}),
    queryOptions: { consistency: types.consistencies.localQuorum, prepare: true },
    socketOptions: { connectTimeout: 5_000, readTimeout: 12_000 },
  });
}

/**
 * The permissions a service role needs on a keyspace of its own: read and write rows, create and
 * alter the tables its migrations define. Never CREATE KEYSPACE, DROP or AUTHORIZE: an operator
 * role creates the keyspace and grants these (the local launcher, a cluster's init job, a rebuild).
 */
export const SERVICE_KEYSPACE_PERMISSIONS = ['SELECT', 'MODIFY', 'CREATE', 'ALTER'] as const;

const ROLE_OR_KEYSPACE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

/**
 * Grants `role` the SERVICE_KEYSPACE_PERMISSIONS on `keyspace` (idempotent). Run by a role that may
 * grant them (a superuser, or the keyspace's creator). Names are checked: GRANT takes no bind markers.
 */
export async function grantServiceKeyspace(client: Client, keyspace: string, role: string): Promise<void> {
  for (const [what, name] of [
    ['keyspace', keyspace],
    ['role', role],
  ] as const) {
    if (!ROLE_OR_KEYSPACE.test(name)) {
      throw new Error(
        `invalid Cassandra ${what} name '${name}': expected a letter then letters, digits or _`,
      );
    }
  }
  for (const permission of SERVICE_KEYSPACE_PERMISSIONS) {
    await client.execute(`GRANT ${permission} ON KEYSPACE ${keyspace} TO ${role}`);
  }
}

/** Ready when a query against the node's own system table succeeds. */
export function cassandraHealthCheck(client: Client, name = 'cassandra'): HealthCheck {
  return { name, check: async () => void (await client.execute('SELECT release_version FROM system.local')) };
}
