import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CassandraCredentials } from '@dispatch/platform';
import { stackDir } from './services';

/** The superuser role `pnpm stack up` creates (tools/stack/cassandra-auth.ts; its unit test checks both agree). */
export const LOCAL_CASSANDRA_ADMIN_ROLE = 'dispatch_admin';

/** Where `pnpm stack up` keeps that role's generated password (mode 0600). */
export function localCassandraAdminPasswordFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stackDir(env), 'secrets', 'cassandra', 'admin.password');
}

/**
 * The role tests and tools log in to Cassandra as: CASSANDRA_USERNAME and CASSANDRA_PASSWORD when
 * set (a cluster; both or neither), else the local stack's admin role with the password from
 * .stack/secrets/cassandra/admin.password, so tests run without sourcing .stack/env. Undefined (an
 * anonymous session) when neither exists: a Cassandra without authentication.
 */
export function cassandraTestCredentials(
  env: NodeJS.ProcessEnv = process.env,
): CassandraCredentials | undefined {
  const { CASSANDRA_USERNAME: username, CASSANDRA_PASSWORD: password } = env;
  if (username !== undefined || password !== undefined) {
    if (!username || !password) {
      throw new Error('set both CASSANDRA_USERNAME and CASSANDRA_PASSWORD, or neither');
    }
    return { username, password };
  }
  const file = localCassandraAdminPasswordFile(env);
  if (!existsSync(file)) return undefined;
  return { username: LOCAL_CASSANDRA_ADMIN_ROLE, password: readFileSync(file, 'utf8').trim() };
}
