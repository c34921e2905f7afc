// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose/Dockerfile variable syntax, not templates
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  bindMountSources,
  type ComposeFile,
  composeSchemaProblems,
  dependsOn,
  InterpolationError,
  interpolate,
  loadCompose,
  publishedContainerPorts,
  serviceEnvironment,
} from './compose';
import {
  compose,
  KAFKA_LOGINS,
  KAFKA_TOOL_VARIABLES,
  OPERATOR_ENV,
  PG_ROLES,
  text,
} from './compose.fixtures';
import { REPO_ROOT, repoPath } from './paths';
import { configProblems, SERVICE_CONFIGS } from './service-configs';

describe('interpolate (Compose Specification rules)', () => {
  const env = { SET: 'value', EMPTY: '' };
  test.each([
    ['${SET}', 'value'],
    ['$SET and $$SET', 'value and $SET'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET:-${SET}}', 'value'],
    ['${SET:+alt}', 'alt'],
    ['${UNSET:+alt}', ''],
  ])('%s → %s', (input, expected) => {
    expect(interpolate(input, env)).toBe(expected);
  });

  test('collects every required variable that is unset or empty', () => {
    const problems: { variable: string; message: string }[] = [];
    interpolate('${UNSET:?give it} ${EMPTY:?empty too} ${SET:?fine}', env, problems);
    expect(problems).toEqual([
      { variable: 'UNSET', message: 'give it' },
      { variable: 'EMPTY', message: 'empty too' },
    ]);
  });
});

describe('docker-compose.yml', () => {
  test('validates against the Compose Specification schema', () => {
    expect(composeSchemaProblems(compose)).toEqual([]);
  });

  test('the schema check catches a misspelt key (so the test above can fail)', () => {
    const broken = structuredClone(compose);
    (broken.services['order-service'] as Record<string, unknown>).enviroment = { PORT: '1' };
    expect(composeSchemaProblems(broken)).toEqual(
      expect.arrayContaining(['/services/order-service: unknown field "enviroment"']),
    );
  });

  test('commits no secret: the stack refuses to start until the operator sets them', () => {
    let error: unknown;
    try {
      loadCompose(text, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InterpolationError);
    expect([...new Set((error as InterpolationError).problems.map((p) => p.variable))].sort()).toEqual(
      [
        'AUTH_JWKS_PATH',
        'CASSANDRA_ADMIN_PASSWORD',
        'GRAFANA_ADMIN_PASSWORD',
        'QUERY_API_CASSANDRA_PASSWORD',
        'POSTGRES_PASSWORD',
        ...PG_ROLES.map((r) => r.variable),
        'KAFKA_ADMIN_PASSWORD',
        'KAFKA_CONTROLLER_PASSWORD',
        ...KAFKA_LOGINS.map((l) => l.variable),
      ].sort(),
    );
    // Every secret-bearing variable is a required reference in the file itself, never a value.
    const raw = parse(text) as ComposeFile;
    const secretKeys = [
      'PGPASSWORD',
      'POSTGRES_PASSWORD',
      'GF_SECURITY_ADMIN_PASSWORD',
      'CASSANDRA_PASSWORD',
      'CASSANDRA_ADMIN_PASSWORD',
      'QUERY_API_CASSANDRA_PASSWORD',
      ...PG_ROLES.map((r) => r.variable),
      'KAFKA_SASL_PASSWORD',
      'KAFKA_ADMIN_PASSWORD',
      'KAFKA_CONTROLLER_PASSWORD',
      ...KAFKA_LOGINS.map((l) => l.variable),
    ];
    for (const [name, service] of Object.entries(raw.services)) {
      for (const [key, value] of Object.entries(serviceEnvironment(service))) {
        if (secretKeys.includes(key)) expect(`${name} ${key}=${value}`).toMatch(/=\$\{[A-Z_]+:\?[^}]+\}$/);
        // The tools' logins are optional, and then only ever the operator's variable, empty by default.
        if (KAFKA_TOOL_VARIABLES.includes(key))
          expect(`${name} ${key}=${value}`).toBe(`${name} ${key}=\${${key}:-}`);
      }
    }
  });

  test.each(PG_ROLES)(
    '$service: connects to PostgreSQL as its own role $role (never the superuser), with its own password',
    ({ service, role, database, variable }) => {
      const env = serviceEnvironment(compose.services[service]!);
      expect(env).toMatchObject({ PGUSER: role, PGDATABASE: database, PGPASSWORD: OPERATOR_ENV[variable] });
    },
  );

  test('postgres-init makes every service role with the shared SQL, as the superuser, with each password', () => {
    const init = compose.services['postgres-init']!;
    const env = serviceEnvironment(init);
    expect(env.PGUSER).toBe('postgres');
    for (const r of PG_ROLES) expect(env[r.variable]).toBe(OPERATOR_ENV[r.variable]);
    const script = (init.command as string[]).join('\n');
    for (const r of PG_ROLES) expect(script).toContain(`${r.role}:${r.database}`);
    expect(script).toContain('\\i /etc/dispatch/postgres/service-role.sql');
    expect(init.configs).toEqual([
      { source: 'postgres-service-role', target: '/etc/dispatch/postgres/service-role.sql' },
    ]);
    expect(compose.configs?.['postgres-service-role']).toEqual({
      file: './k8s/base/postgres/service-role.sql',
    });
    expect(existsSync(path.resolve(REPO_ROOT, 'k8s/base/postgres/service-role.sql'))).toBe(true);
  });

  test('query-api logs in to Cassandra as query_api; cassandra-init creates it with the shared script as the admin', () => {
    expect(serviceEnvironment(compose.services['query-api']!)).toMatchObject({
      CASSANDRA_USERNAME: 'query_api',
      CASSANDRA_PASSWORD: OPERATOR_ENV.QUERY_API_CASSANDRA_PASSWORD,
    });
    const init = compose.services['cassandra-init']!;
    expect(serviceEnvironment(init)).toMatchObject({
      CASSANDRA_CONTACT_POINTS: 'cassandra:9042',
      CASSANDRA_KEYSPACE: serviceEnvironment(compose.services['query-api']!).CASSANDRA_KEYSPACE,
      CASSANDRA_ADMIN_USERNAME: 'dispatch_admin',
      CASSANDRA_ADMIN_PASSWORD: OPERATOR_ENV.CASSANDRA_ADMIN_PASSWORD,
      QUERY_API_CASSANDRA_USERNAME: 'query_api',
      QUERY_API_CASSANDRA_PASSWORD: OPERATOR_ENV.QUERY_API_CASSANDRA_PASSWORD,
    });
    expect(init.entrypoint).toEqual(['/bin/bash', '/etc/dispatch/cassandra/roles.sh']);
    expect(init.configs).toEqual([{ source: 'cassandra-roles', target: '/etc/dispatch/cassandra/roles.sh' }]);
    expect(compose.configs?.['cassandra-roles']).toEqual({ file: './k8s/base/cassandra/roles.sh' });
    // The server itself requires a login (its image has no setting: system properties override the yaml).
    const jvm = serviceEnvironment(compose.services.cassandra!).JVM_EXTRA_OPTS ?? '';
    expect(jvm).toContain('-Dcassandra.settings.authenticator=PasswordAuthenticator');
    expect(jvm).toContain('-Dcassandra.settings.authorizer=CassandraAuthorizer');
  });

  test.each(SERVICE_CONFIGS)(
    '$name: verifies tokens with the public JWKS only — no token secret, no signing key',
    ({ name }) => {
      const service = compose.services[name]!;
      const env = serviceEnvironment(service);
      expect(env.AUTH_JWKS_FILE).toBe('/etc/dispatch/auth/jwks.json');
      expect(env).not.toHaveProperty('AUTH_JWT_SECRET');
      expect(env).not.toHaveProperty('AUTH_SIGNING_KEYS_FILE');
      expect(service.configs).toEqual([{ source: 'token-jwks', target: '/etc/dispatch/auth/jwks.json' }]);
      expect(JSON.stringify(service)).not.toMatch(/secrets\/token-signing-keys|jwt-secret/);
    },
  );

  test('the token-jwks config is the operator-given public JWKS file', () => {
    expect(compose.configs?.['token-jwks']).toEqual({ file: '.stack/auth/jwks.json' });
    expect(text).toMatch(/token-jwks:\n\s+file: \$\{AUTH_JWKS_PATH:\?/);
  });

  test.each(SERVICE_CONFIGS)('$name: built from the Dockerfile with SERVICE=$name', ({ name }) => {
    const service = compose.services[name];
    expect(service).toBeDefined();
    expect(service!.build).toEqual({ context: '.', dockerfile: 'Dockerfile', args: { SERVICE: name } });
    expect(service!.image).toMatch(new RegExp(`^dispatch/${name}:`));
  });

  test.each(SERVICE_CONFIGS)(
    '$name: every variable it sets is in its config schema, and it would start',
    (s) => {
      const env = serviceEnvironment(compose.services[s.name]!);
      expect(configProblems(s.schema, env)).toEqual([]);
    },
  );

  test.each(SERVICE_CONFIGS)(
    '$name: listens on $port and publishes that port; read-only with a /tmp',
    (s) => {
      const service = compose.services[s.name]!;
      expect(serviceEnvironment(service).PORT).toBe(String(s.port));
      expect(publishedContainerPorts(service)).toEqual([s.port]);
      // The image's HEALTHCHECK (GET /health/live on PORT) gates the services that depend on it.
      expect(service.healthcheck?.disable).not.toBe(true);
      expect(service.read_only).toBe(true);
      expect(service.tmpfs).toEqual(['/tmp']);
    },
  );

  test.each(SERVICE_CONFIGS)(
    '$name: starts only after the servers it uses are ready and provisioned',
    (s) => {
      const env = serviceEnvironment(compose.services[s.name]!);
      const gates = dependsOn(compose.services[s.name]!);
      const expected: Record<string, string> = {
        'kafka-init': 'service_completed_successfully',
        'kafka-access': 'service_completed_successfully',
      };
      if (env.PGHOST) expected['postgres-init'] = 'service_completed_successfully';
      if (env.REDIS_URL) expected.redis = 'service_healthy';
      if (env.CASSANDRA_CONTACT_POINTS) expected['cassandra-init'] = 'service_completed_successfully';
      expect(gates).toEqual(expected);
    },
  );

  test('every address a service is given names a compose service on a port it listens on', () => {
    const listeners: Record<string, number[]> = {
      kafka: [29092],
      postgres: [5432],
      redis: [6379],
      cassandra: [9042],
    };
    for (const s of SERVICE_CONFIGS) {
      const env = serviceEnvironment(compose.services[s.name]!);
      const addresses = [
        ...(env.KAFKA_BROKERS?.split(',') ?? []),
        ...(env.CASSANDRA_CONTACT_POINTS?.split(',') ?? []),
        ...(env.PGHOST ? [`${env.PGHOST}:${env.PGPORT ?? '5432'}`] : []),
        ...(env.REDIS_URL ? [new URL(env.REDIS_URL).host] : []),
      ];
      for (const address of addresses) {
        const [host, port] = address.split(':');
        expect(`${s.name} → ${address}: ${listeners[host!]?.includes(Number(port))}`).toBe(
          `${s.name} → ${address}: true`,
        );
      }
    }
  });

  test('health-gated dependencies point at services with a health check, jobs at one-shot jobs', () => {
    const appServices = new Set(SERVICE_CONFIGS.map((s) => s.name));
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [target, condition] of Object.entries(dependsOn(service))) {
        const dependency = compose.services[target];
        expect(`${name} → ${target}: ${dependency !== undefined}`).toBe(`${name} → ${target}: true`);
        if (condition === 'service_healthy') {
          // App services get theirs from the image (Dockerfile HEALTHCHECK).
          expect(`${target}: ${Boolean(dependency!.healthcheck?.test) || appServices.has(target)}`).toBe(
            `${target}: true`,
          );
        }
        if (condition === 'service_completed_successfully') expect(dependency!.restart).toBe('no');
      }
    }
  });

  test('every file and folder it mounts exists (dashboards/ is the dashboards work)', () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      for (const source of bindMountSources(service)) {
        if (!existsSync(path.resolve(REPO_ROOT, source))) missing.push(`${name}: ${source}`);
      }
      for (const config of service.configs ?? []) {
        const source = typeof config === 'string' ? config : config.source;
        if (!compose.configs?.[source]) missing.push(`${name}: config ${source}`);
      }
    }
    expect(missing).toEqual([]);
    const grafana = repoPath('dashboards', 'grafana');
    expect(statSync(grafana).isDirectory()).toBe(true);
    expect(readdirSync(grafana).filter((f) => f.endsWith('.json')).length).toBeGreaterThan(0);
  });

  test('dashboards/prometheus.yml scrapes every service at its compose address and loads the alerts', () => {
    const file = repoPath('dashboards', 'prometheus.yml');
    if (!existsSync(file))
      throw new Error(`${file} is missing (the dashboards work; contract in docs/deploy.md)`);
    const config = parse(readFileSync(file, 'utf8')) as {
      rule_files?: string[];
      scrape_configs?: { metrics_path?: string; static_configs?: { targets?: string[] }[] }[];
    };
    const targets = (config.scrape_configs ?? []).flatMap((job) =>
      (job.static_configs ?? []).flatMap((c) => c.targets ?? []),
    );
    for (const s of SERVICE_CONFIGS) expect(targets).toContain(`${s.name}:${s.port}`);
    expect(config.rule_files?.map((f) => path.posix.resolve('/etc/prometheus', f))).toContain(
      '/etc/prometheus/alerts.yml',
    );
  });
});
