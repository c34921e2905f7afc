import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type CassandraCredentials, createCassandraClient, grantServiceKeyspace } from '@dispatch/platform';
import { type Client, errors } from 'cassandra-driver';
import { QUERY_KEYSPACE, type StackConfig } from './config';
import { ProvisioningError, StackError } from './errors';
import { ensureGeneratedPassword, readGeneratedPassword } from './secrets';
import type { AppService } from './services';
import { startedEnv } from './started-env';

/**
 * Cassandra with authentication (PasswordAuthenticator, CassandraAuthorizer; infra/local/cassandra):
 *
 * - `dispatch_admin`, a superuser the launcher creates with the default `cassandra`/`cassandra` the
 *   first time; then the default role loses its login, its superuser status and its well-known
 *   password. The launcher, the tests and the operator tools (rebuild) log in as dispatch_admin.
 * - one LOGIN role per service that uses Cassandra (query-api: `query_api`), no superuser, with
 *   only SERVICE_KEYSPACE_PERMISSIONS on its own keyspaces, which the launcher creates as admin.
 *
 * Passwords are generated once into .stack/secrets/cassandra/<name>.password (0600, folder 0700) and
 * set on the roles on every `up`, so replacing a file and running `up` rotates that password.
 */

export const CASSANDRA_ADMIN_ROLE = 'dispatch_admin';

/** What a node with PasswordAuthenticator creates when it has no roles (after a few seconds). */
const DEFAULT_SUPERUSER: CassandraCredentials = { username: 'cassandra', password: 'cassandra' };

export interface CassandraServiceRole {
  service: string;
  role: string;
  /** Its control keyspace; `<keyspace>_g<N>` (read-model generations) are its too. */
  keyspace: string;
}

export const CASSANDRA_SERVICE_ROLES: CassandraServiceRole[] = [
  { service: 'query-api', role: 'query_api', keyspace: QUERY_KEYSPACE },
];

/** query-api's first read-model generation (services/query-api/src/store/generations.ts names them). */
export function generationKeyspaces(keyspace: string, existing: string[]): string[] {
  const pattern = new RegExp(`^${keyspace}_g[0-9]+$`);
  return [`${keyspace}_g1`, ...existing.filter((name) => pattern.test(name) && name !== `${keyspace}_g1`)];
}

export function cassandraPasswordFile(secretsDir: string, name: string): string {
  return path.join(secretsDir, `${name}.password`);
}

const ADMIN_FILE_NAME = 'admin';

/**
 * The login of the launcher's own sessions (readiness, provisioning): CASSANDRA_USERNAME and
 * CASSANDRA_PASSWORD when set (an external Cassandra), else the local admin role once its password
 * exists, else none (anonymous).
 */
export function launcherCassandraCredentials(
  cassandra: StackConfig['cassandra'],
  env: NodeJS.ProcessEnv = process.env,
): CassandraCredentials | undefined {
  const { CASSANDRA_USERNAME: username, CASSANDRA_PASSWORD: password } = env;
  if (username !== undefined || password !== undefined) {
    if (!username || !password) {
      throw new StackError('set both CASSANDRA_USERNAME and CASSANDRA_PASSWORD, or neither');
    }
    return { username, password };
  }
  if (!cassandra.local) return undefined;
  try {
    return {
      username: CASSANDRA_ADMIN_ROLE,
      password: readGeneratedPassword(cassandraPasswordFile(cassandra.secretsDir, ADMIN_FILE_NAME)),
    };
  } catch {
    return undefined;
  }
}

/**
 * The logins the readiness check may succeed with: right after a first start with authentication
 * only the default superuser exists (and only after a few seconds); later only the admin role.
 */
export function readinessLogins(
  cassandra: StackConfig['cassandra'],
  env: NodeJS.ProcessEnv = process.env,
): (CassandraCredentials | undefined)[] {
  const own = launcherCassandraCredentials(cassandra, env);
  if (!cassandra.local) return [own];
  return own ? [own, DEFAULT_SUPERUSER] : [DEFAULT_SUPERUSER];
}

/**
 * CASSANDRA_USERNAME and CASSANDRA_PASSWORD for a service's processes: its own role locally (from
 * its password file); an external Cassandra's login from the launcher's environment, to the service
 * that uses Cassandra only. Other services get none (undefined values are left out of the child's
 * environment).
 */
export function cassandraRoleEnv(
  service: AppService,
  cassandra: StackConfig['cassandra'],
  inherited: NodeJS.ProcessEnv,
): { CASSANDRA_USERNAME: string | undefined; CASSANDRA_PASSWORD: string | undefined } {
  const own = CASSANDRA_SERVICE_ROLES.find((r) => r.service === service.name);
  if (!own) return { CASSANDRA_USERNAME: undefined, CASSANDRA_PASSWORD: undefined };
  if (!cassandra.local) {
    return {
      CASSANDRA_USERNAME: inherited.CASSANDRA_USERNAME,
      CASSANDRA_PASSWORD: inherited.CASSANDRA_PASSWORD,
    };
  }
  const file = cassandraPasswordFile(cassandra.secretsDir, own.service);
  // No file: `up` has not set up authentication yet (the role does not exist either).
  if (!existsSync(file)) return { CASSANDRA_USERNAME: undefined, CASSANDRA_PASSWORD: undefined };
  return { CASSANDRA_USERNAME: own.role, CASSANDRA_PASSWORD: readGeneratedPassword(file) };
}

/**
 * True when a running service was started with another Cassandra login than it would get now (one
 * started before authentication, or before its password was rotated): `up` restarts it.
 */
export function hasStaleCassandraLogin(
  pid: number,
  service: AppService,
  cassandra: StackConfig['cassandra'],
  inherited: NodeJS.ProcessEnv = process.env,
): boolean {
  const started = startedEnv(pid, ['CASSANDRA_USERNAME', 'CASSANDRA_PASSWORD']);
  if (started === undefined) return false;
  const wanted = cassandraRoleEnv(service, cassandra, inherited);
  return (
    started.CASSANDRA_USERNAME !== wanted.CASSANDRA_USERNAME ||
    started.CASSANDRA_PASSWORD !== wanted.CASSANDRA_PASSWORD
  );
}

/** A login refused by the server (bad credentials, or credentials required and none given). */
export function isAuthenticationFailure(err: unknown): boolean {
  if (err instanceof errors.AuthenticationError) return true;
  if (err instanceof errors.NoHostAvailableError) {
    const inner = Object.values(err.innerErrors ?? {});
    return inner.length > 0 && inner.every((e) => e instanceof errors.AuthenticationError);
  }
  return false;
}

async function connectAs(
  cassandra: StackConfig['cassandra'],
  credentials: CassandraCredentials | undefined,
): Promise<Client> {
  const client = createCassandraClient({
    contactPoints: cassandra.contactPoints,
    localDataCenter: cassandra.localDc,
    credentials,
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.shutdown().catch(() => undefined);
    throw err;
  }
}

/** Connects as `credentials`; undefined when the server refuses that login. */
async function tryLogin(
  cassandra: StackConfig['cassandra'],
  credentials: CassandraCredentials | undefined,
): Promise<Client | undefined> {
  try {
    return await connectAs(cassandra, credentials);
  } catch (err) {
    if (isAuthenticationFailure(err)) return undefined;
    throw err;
  }
}

/** Role statements take no bind markers: only generated url-safe passwords are put into them. */
function passwordLiteral(password: string): string {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(password)) {
    throw new ProvisioningError('a Cassandra password must be at least 16 url-safe characters');
  }
  return `'${password}'`;
}

/** Whether the committed local config (infra/local/cassandra/cassandra.yaml) turns authentication on. */
export function localConfigRequiresAuthentication(yaml: string): boolean {
  return /^authenticator:\s*(org\.apache\.cassandra\.auth\.)?PasswordAuthenticator\s*$/m.test(yaml);
}

export interface CassandraAuthResult {
  /** False: the server (and its committed config) has no authentication; nothing was done. */
  authentication: boolean;
  /** Password files generated just now. */
  generated: string[];
  adminCreated: boolean;
  defaultRoleDisabled: boolean;
}

/**
 * `up`, local Cassandra only, once it answers: the admin and service roles and their passwords, the
 * default superuser disabled. Idempotent. Refuses a server that accepts anonymous sessions although
 * its committed config requires authentication (one pnpm stack did not start).
 */
export async function ensureCassandraRoles(
  cassandra: StackConfig['cassandra'],
  requireAuthentication: boolean,
): Promise<CassandraAuthResult> {
  const anonymous = await tryLogin(cassandra, undefined);
  if (anonymous) {
    await anonymous.shutdown();
    if (!requireAuthentication) {
      return { authentication: false, generated: [], adminCreated: false, defaultRoleDisabled: false };
    }
    throw new StackError(
      `Cassandra at ${cassandra.contactPoints.join(',')} accepts anonymous sessions: it runs without ` +
        'authentication (infra/local/cassandra/cassandra.yaml sets PasswordAuthenticator). If pnpm stack did ' +
        'not start it, stop it and run ./dispatch up again.',
    );
  }

  const generated: string[] = [];
  const secret = (name: string) => {
    const file = cassandraPasswordFile(cassandra.secretsDir, name);
    const { password, created } = ensureGeneratedPassword(file);
    if (created) generated.push(file);
    return password;
  };
  const admin: CassandraCredentials = { username: CASSANDRA_ADMIN_ROLE, password: secret(ADMIN_FILE_NAME) };

  let adminCreated = false;
  let client = await tryLogin(cassandra, admin);
  if (!client) {
    const initial = await tryLogin(cassandra, DEFAULT_SUPERUSER);
    if (!initial) {
      throw new StackError(
        `Cassandra refuses both ${CASSANDRA_ADMIN_ROLE} (password in ${cassandraPasswordFile(cassandra.secretsDir, ADMIN_FILE_NAME)}) ` +
          'and the default cassandra/cassandra: that file no longer holds the password the role was created with. ' +
          'Put the old file back, or start over: pnpm stack down && rm -rf .stack/data/cassandra && ./dispatch up ' +
          '(the read model is rebuilt from Kafka by ./dispatch rebuild).',
      );
    }
    try {
      await roleStatement(
        initial,
        `CREATE ROLE IF NOT EXISTS ${CASSANDRA_ADMIN_ROLE} WITH PASSWORD = ${passwordLiteral(admin.password)} ` +
          'AND SUPERUSER = true AND LOGIN = true',
        `creating role ${CASSANDRA_ADMIN_ROLE}`,
      );
      adminCreated = true;
    } finally {
      await initial.shutdown();
    }
    client = await connectAs(cassandra, admin);
  }

  try {
    const defaultRoleDisabled = await disableDefaultSuperuser(client);
    for (const { service, role } of CASSANDRA_SERVICE_ROLES) {
      await ensureServiceRole(cassandra, client, role, secret(service));
    }
    return { authentication: true, generated, adminCreated, defaultRoleDisabled };
  } finally {
    await client.shutdown();
  }
}

/** The default `cassandra` role: no login, no superuser, a random password nobody keeps. */
async function disableDefaultSuperuser(client: Client): Promise<boolean> {
  const row = (
    await client.execute('SELECT can_login, is_superuser FROM system_auth.roles WHERE role = ?', [
      DEFAULT_SUPERUSER.username,
    ])
  ).first();
  if (!row || (row.get('can_login') !== true && row.get('is_superuser') !== true)) return false;
  await roleStatement(
    client,
    `ALTER ROLE ${DEFAULT_SUPERUSER.username} WITH PASSWORD = ${passwordLiteral(randomBytes(24).toString('base64url'))} ` +
      'AND SUPERUSER = false AND LOGIN = false',
    'disabling the default cassandra role',
  );
  return true;
}

/**
 * A LOGIN role without superuser whose password is `password`. An existing role's password is set
 * only when it logs in with another one (rotation: a new file, then up): Cassandra refuses a second
 * password change within a few seconds.
 */
async function ensureServiceRole(
  cassandra: StackConfig['cassandra'],
  admin: Client,
  role: string,
  password: string,
): Promise<void> {
  const row = (
    await admin.execute('SELECT can_login, is_superuser FROM system_auth.roles WHERE role = ?', [role])
  ).first();
  if (!row) {
    await roleStatement(
      admin,
      `CREATE ROLE IF NOT EXISTS ${role} WITH PASSWORD = ${passwordLiteral(password)} AND LOGIN = true AND SUPERUSER = false`,
      `creating role ${role}`,
    );
    return;
  }
  if (row.get('can_login') !== true || row.get('is_superuser') !== false) {
    await roleStatement(
      admin,
      `ALTER ROLE ${role} WITH LOGIN = true AND SUPERUSER = false`,
      `fixing role ${role}`,
    );
  }
  const own = await tryLogin(cassandra, { username: role, password });
  if (own) {
    await own.shutdown();
    return;
  }
  await roleStatement(
    admin,
    `ALTER ROLE ${role} WITH PASSWORD = ${passwordLiteral(password)}`,
    `setting the password of role ${role}`,
  );
}

/** Runs a role statement; its error says what failed but never carries the statement (a password). */
async function roleStatement(client: Client, cql: string, what: string): Promise<void> {
  try {
    await client.execute(cql);
  } catch (err) {
    throw new ProvisioningError(`Cassandra: ${what} failed: ${(err as Error).message}`);
  }
}

/**
 * Grants each service role its keyspaces (the control keyspace, its first generation and every
 * generation that exists). The keyspaces must exist (provision.ts creates them).
 */
export async function grantServiceKeyspaces(client: Client): Promise<string[]> {
  const existing = (await client.execute('SELECT keyspace_name FROM system_schema.keyspaces')).rows.map(
    (row) => row.get('keyspace_name') as string,
  );
  const granted: string[] = [];
  for (const { role, keyspace } of CASSANDRA_SERVICE_ROLES) {
    for (const name of [keyspace, ...generationKeyspaces(keyspace, existing)]) {
      await grantServiceKeyspace(client, name, role);
      granted.push(`${name} → ${role}`);
    }
  }
  return granted;
}
