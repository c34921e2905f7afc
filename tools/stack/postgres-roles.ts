import { readFileSync } from 'node:fs';
import path from 'node:path';
import { clientConfig, ensureDatabase, type PgConfig } from '@dispatch/platform';
import pg from 'pg';
import type { StackConfig } from './config';
import { ProvisioningError } from './errors';
import { REPO_ROOT } from './paths';
import { ensureGeneratedPassword, readGeneratedPassword } from './secrets';
import type { AppService } from './services';

/**
 * One PostgreSQL login role per service that has a database (PGDATABASE): `order-service` runs as
 * `order_service`, which owns `order_db` and may connect to nothing else of ours. It is no superuser
 * and may create neither databases nor roles; the launcher's provisioning and the tests keep the
 * superuser (PGUSER of the launcher's own environment). The SQL that makes a role what it must be is
 * k8s/base/postgres/service-role.sql, shared with docker-compose and the Kubernetes Job.
 *
 * Each role's password is generated once into .stack/secrets/postgres/<service>.password (mode
 * 0600, folder 0700) and set on the role on every `up`. The local server trusts loopback
 * connections, so it is not checked there; a cluster's server checks it.
 */
export interface ServiceRole {
  service: string;
  database: string;
  role: string;
}

/** The one SQL definition of a service role (see the file's header for how it is run). */
export const SERVICE_ROLE_SQL_FILE = path.join(REPO_ROOT, 'k8s', 'base', 'postgres', 'service-role.sql');

/** `order-service` → `order_service`: a lower-case identifier that needs no quoting. */
export function serviceRoleName(service: string): string {
  const role = service.replaceAll('-', '_');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    throw new ProvisioningError(`service name "${service}" does not make a PostgreSQL role name`);
  }
  return role;
}

/** The services that own a database (APP_SERVICES for `up`), with their role. */
export function serviceRoles(services: AppService[]): ServiceRole[] {
  return services.flatMap((service) => {
    const database = service.env.PGDATABASE;
    return database ? [{ service: service.name, database, role: serviceRoleName(service.name) }] : [];
  });
}

export function rolePasswordFile(secretsDir: string, service: string): string {
  return path.join(secretsDir, `${service}.password`);
}

/** The role's password, generated into its file when there is none (secrets.ts). */
export function ensureRolePassword(
  secretsDir: string,
  service: string,
): { password: string; created: boolean } {
  return ensureGeneratedPassword(rolePasswordFile(secretsDir, service));
}

/** The role's password; says to run `up` when it has not been generated yet. */
export function readRolePassword(secretsDir: string, service: string): string {
  return readGeneratedPassword(rolePasswordFile(secretsDir, service));
}

/**
 * PGUSER and PGPASSWORD for a service's processes (the service itself, its extra instances, its
 * seed): its own role. A service without a database gets no PostgreSQL credentials at all (the
 * undefined values are left out of the child's environment).
 */
export function postgresRoleEnv(
  service: AppService,
  postgres: StackConfig['postgres'],
): { PGUSER: string | undefined; PGPASSWORD: string | undefined } {
  const [own] = serviceRoles([service]);
  if (!own) return { PGUSER: undefined, PGPASSWORD: undefined };
  return { PGUSER: own.role, PGPASSWORD: readRolePassword(postgres.roleSecretsDir, service.name) };
}

/**
 * `up`: for each service role, its database (created when missing) and the role itself, applied by
 * service-role.sql as the launcher's superuser, connected to that database. Returns the services
 * whose password was generated just now.
 */
export async function ensureServiceRoles(
  postgres: StackConfig['postgres'],
  roles: ServiceRole[],
): Promise<{ generated: string[] }> {
  const sql = readFileSync(SERVICE_ROLE_SQL_FILE, 'utf8');
  const admin: PgConfig = {
    host: postgres.host,
    port: postgres.port,
    user: postgres.user,
    password: postgres.password,
    database: 'postgres',
  };
  const generated: string[] = [];
  for (const { service, database, role } of roles) {
    const { password, created } = ensureRolePassword(postgres.roleSecretsDir, service);
    if (created) generated.push(service);
    await ensureDatabase(admin, database);
    const client = new pg.Client({ ...clientConfig({ ...admin, database }), statement_timeout: 0 });
    await client.connect();
    try {
      // Settings, not text in the SQL: the name and password reach the script as bound parameters.
      await client.query(
        "SELECT set_config('dispatch.role', $1, false), set_config('dispatch.password', $2, false)",
        [role, password],
      );
      await client.query(sql);
    } catch (err) {
      throw new ProvisioningError(
        `PostgreSQL role ${role} for ${database}: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      await client.end();
    }
  }
  return { generated };
}
