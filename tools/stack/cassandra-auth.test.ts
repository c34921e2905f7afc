import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_CASSANDRA_ADMIN_ROLE, localCassandraAdminPasswordFile } from '@dispatch/testkit';
import { errors } from 'cassandra-driver';
import {
  CASSANDRA_ADMIN_ROLE,
  cassandraPasswordFile,
  cassandraRoleEnv,
  generationKeyspaces,
  hasStaleCassandraLogin,
  isAuthenticationFailure,
  launcherCassandraCredentials,
  localConfigRequiresAuthentication,
  readinessLogins,
} from './cassandra-auth';
import { loadStackConfig } from './config';
import { stackPaths } from './paths';
import { ensureGeneratedPassword } from './secrets';
import { findAppService } from './services';
import { killSleepers, sleeper } from './test/sleeper';

const queryApi = findAppService('query-api')!;
const orderService = findAppService('order-service')!;

describe('Cassandra roles of the local stack', () => {
  const secretsDir = mkdtempSync(path.join(tmpdir(), 'cassandra-secrets-'));
  const base = loadStackConfig({});
  const local = { ...base.cassandra, secretsDir };
  const external = { ...local, contactPoints: ['cass-0:9042'], local: false };
  afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

  it('agrees with the testkit on the admin role and where its password is', () => {
    expect(LOCAL_CASSANDRA_ADMIN_ROLE).toBe(CASSANDRA_ADMIN_ROLE);
    expect(localCassandraAdminPasswordFile({})).toBe(
      cassandraPasswordFile(base.cassandra.secretsDir, 'admin'),
    );
    expect(base.cassandra.secretsDir).toBe(path.join(stackPaths().stackDir, 'secrets', 'cassandra'));
  });

  it('the committed local config turns authentication and authorization on', () => {
    const yaml = readFileSync(path.join(stackPaths().infraDir, 'cassandra', 'cassandra.yaml'), 'utf8');
    expect(localConfigRequiresAuthentication(yaml)).toBe(true);
    expect(yaml).toMatch(/^authorizer: CassandraAuthorizer$/m);
    expect(yaml).toMatch(/^role_manager: CassandraRoleManager$/m);
    expect(localConfigRequiresAuthentication('authenticator: AllowAllAuthenticator\n')).toBe(false);
    expect(localConfigRequiresAuthentication('# authenticator: PasswordAuthenticator\n')).toBe(false);
  });

  it('before the first up with authentication: no login anywhere, readiness tries the default superuser', () => {
    expect(cassandraRoleEnv(queryApi, local, {})).toEqual({
      CASSANDRA_USERNAME: undefined,
      CASSANDRA_PASSWORD: undefined,
    });
    expect(launcherCassandraCredentials(local, {})).toBeUndefined();
    expect(readinessLogins(local, {})).toEqual([{ username: 'cassandra', password: 'cassandra' }]);
  });

  it('then query-api logs in as query_api, no other service gets a login, the launcher is admin', () => {
    const { password: admin } = ensureGeneratedPassword(cassandraPasswordFile(secretsDir, 'admin'));
    const { password: own, created } = ensureGeneratedPassword(
      cassandraPasswordFile(secretsDir, 'query-api'),
    );
    expect(created).toBe(true);
    expect(own).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(secretsDir).mode & 0o777).toBe(0o700);
    expect(statSync(cassandraPasswordFile(secretsDir, 'query-api')).mode & 0o777).toBe(0o600);
    // The launcher's own login never reaches a service, even when it is in its environment.
    const inherited = { CASSANDRA_USERNAME: CASSANDRA_ADMIN_ROLE, CASSANDRA_PASSWORD: admin };
    expect(cassandraRoleEnv(queryApi, local, inherited)).toEqual({
      CASSANDRA_USERNAME: 'query_api',
      CASSANDRA_PASSWORD: own,
    });
    expect(cassandraRoleEnv(orderService, local, inherited)).toEqual({
      CASSANDRA_USERNAME: undefined,
      CASSANDRA_PASSWORD: undefined,
    });
    expect(launcherCassandraCredentials(local, {})).toEqual({
      username: CASSANDRA_ADMIN_ROLE,
      password: admin,
    });
    expect(readinessLogins(local, {})).toEqual([
      { username: CASSANDRA_ADMIN_ROLE, password: admin },
      { username: 'cassandra', password: 'cassandra' },
    ]);
  });

  it('an external Cassandra: the login of the environment, for the launcher and query-api only', () => {
    const env = { CASSANDRA_USERNAME: 'ops', CASSANDRA_PASSWORD: 'from-a-vault' };
    expect(launcherCassandraCredentials(external, env)).toEqual({
      username: 'ops',
      password: 'from-a-vault',
    });
    expect(readinessLogins(external, {})).toEqual([undefined]);
    expect(cassandraRoleEnv(queryApi, external, env)).toEqual(env);
    expect(cassandraRoleEnv(orderService, external, env).CASSANDRA_USERNAME).toBeUndefined();
    expect(() => launcherCassandraCredentials(external, { CASSANDRA_USERNAME: 'ops' })).toThrow(/both/);
  });

  it('a password file that is not one url-safe password is refused (it goes into a CQL literal)', () => {
    const file = cassandraPasswordFile(secretsDir, 'query-api');
    writeFileSync(file, "x' AND SUPERUSER = true --\n");
    expect(() => cassandraRoleEnv(queryApi, local, {})).toThrow(/delete it and run \.\/dispatch up/);
    rmSync(file);
  });

  it("restarts a service whose Cassandra login is not the one it would get now, never another's", async () => {
    const { password } = ensureGeneratedPassword(cassandraPasswordFile(secretsDir, 'query-api'));
    const current = await sleeper({ CASSANDRA_USERNAME: 'query_api', CASSANDRA_PASSWORD: password });
    const anonymous = await sleeper({});
    try {
      expect(hasStaleCassandraLogin(current.pid!, queryApi, local, {})).toBe(false);
      expect(hasStaleCassandraLogin(anonymous.pid!, queryApi, local, {})).toBe(true);
      expect(hasStaleCassandraLogin(anonymous.pid!, orderService, local, {})).toBe(false);
      expect(hasStaleCassandraLogin(current.pid!, orderService, local, {})).toBe(true);
    } finally {
      killSleepers();
    }
  });

  it('grants the control keyspace, its first generation and every generation that exists', () => {
    expect(
      generationKeyspaces('delivery_query', [
        'system_auth',
        'delivery_query_g1',
        'delivery_query_g3',
        'delivery_query_gx',
        'qa_1_g2',
      ]),
    ).toEqual(['delivery_query_g1', 'delivery_query_g3']);
  });

  it('tells a refused login from an unreachable server', () => {
    const refused = new errors.AuthenticationError(
      'Provided username cassandra and/or password are incorrect',
    );
    expect(isAuthenticationFailure(refused)).toBe(true);
    expect(isAuthenticationFailure(new errors.NoHostAvailableError({ '127.0.0.1:9042': refused }))).toBe(
      true,
    );
    expect(
      isAuthenticationFailure(
        new errors.NoHostAvailableError({ '127.0.0.1:9042': new Error('ECONNREFUSED') }),
      ),
    ).toBe(false);
  });
});
