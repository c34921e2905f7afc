// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose/Dockerfile variable syntax, not templates
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { KAFKA_ADMIN } from '../../stack/kafka-acls';
import { stackTopics } from '../../stack/topics';
import {
  bindMountSources,
  type ComposeFile,
  composeSchemaProblems,
  dependsOn,
  durationSeconds,
  InterpolationError,
  interpolate,
  isLoopback,
  loadCompose,
  publishedContainerPorts,
  publishedPorts,
  publishProblems,
  readComposeText,
  serviceEnvironment,
  stopGraceProblems,
} from './compose';
import { deploymentPrincipals, isToolPrincipal, passwordVariable } from './kafka-access';
import { brokerAuthProblems, parseProperties, sharedAuthSettings } from './kafka-broker';
import { KAFKA_ACCESS_SCRIPT, REPO_ROOT, repoPath } from './paths';
import { configProblems, SERVICE_CONFIGS, type ServiceConfig } from './service-configs';

/** Each service's own PostgreSQL login role, and the variable holding its password. */
const PG_ROLES = SERVICE_CONFIGS.filter((s) => s.name !== 'query-api').map((s) => ({
  service: s.name,
  role: s.name.replaceAll('-', '_'),
  database: `${s.name.replace('-service', '')}_db`,
  variable: `${s.name.replaceAll('-', '_').toUpperCase()}_PGPASSWORD`,
}));

/** Each service's own Kafka principal (its name) and the variable holding its password. */
const KAFKA_LOGINS = SERVICE_CONFIGS.map((s) => ({ service: s.name, variable: passwordVariable(s.name) }));
/** The operator tools' logins: optional (kafka-access creates them only when exported). */
const KAFKA_TOOL_VARIABLES = deploymentPrincipals()
  .filter((p) => isToolPrincipal(p.name))
  .map((p) => passwordVariable(p.name));

/** What an operator exports before `docker compose up` (docs/deploy.md); test values only. */
const OPERATOR_ENV: Record<string, string> = {
  AUTH_JWKS_PATH: '.stack/auth/jwks.json',
  POSTGRES_PASSWORD: 'compose-check-password',
  GRAFANA_ADMIN_PASSWORD: 'compose-check-grafana',
  CASSANDRA_ADMIN_PASSWORD: 'compose-check-cassandra-admin',
  QUERY_API_CASSANDRA_PASSWORD: 'compose-check-query-api-cassandra',
  ...Object.fromEntries(PG_ROLES.map((r) => [r.variable, `compose-check-${r.role}`])),
  KAFKA_ADMIN_PASSWORD: 'compose-check-kafka-admin',
  KAFKA_CONTROLLER_PASSWORD: 'compose-check-kafka-controller',
  ...Object.fromEntries(KAFKA_LOGINS.map((l) => [l.variable, `compose-check-kafka-${l.service}`])),
};

const text = readComposeText();
const compose: ComposeFile = loadCompose(text, OPERATOR_ENV);
const SERVERS_ON_LOOPBACK = repoPath('infra', 'compose', 'servers-on-loopback.yml');

/**
 * What each container that is not one of the six services needs to stop cleanly, in seconds; its
 * stop_grace_period must be longer (compose's default is 10 s, then SIGKILL).
 */
const OTHER_DRAIN_SECONDS: Record<string, number> = {
  kafka: 30, // controlled shutdown: every partition's log closed (a kill means log recovery at start)
  cassandra: 30, // the shutdown hook drains the node: memtables flushed to SSTables
  postgres: 20, // SIGINT, a fast shutdown: the final checkpoint
  redis: 2, // nothing persisted (--save "", no AOF)
  prometheus: 20, // the TSDB head and WAL closed
  grafana: 5, // its SQLite database closed
  // One-shot jobs: nothing to drain, idempotent (the next `up` runs them again).
  'kafka-init': 0,
  'kafka-access': 0,
  'cassandra-init': 0,
  'postgres-init': 0,
};

/** A service's drain: SHUTDOWN_TIMEOUT_MS as its compose environment sets it, else its schema's default. */
function serviceDrainSeconds(s: ServiceConfig, model: ComposeFile): number {
  const env = serviceEnvironment(model.services[s.name]!);
  const parsed = s.schema.shape.SHUTDOWN_TIMEOUT_MS?.safeParse(env.SHUTDOWN_TIMEOUT_MS);
  if (!parsed?.success || typeof parsed.data !== 'number') {
    throw new Error(`${s.name}: no SHUTDOWN_TIMEOUT_MS in its config schema (the drain's deadline)`);
  }
  return parsed.data / 1000;
}

function drainSeconds(model: ComposeFile): Record<string, number> {
  return {
    ...OTHER_DRAIN_SECONDS,
    ...Object.fromEntries(SERVICE_CONFIGS.map((s) => [s.name, serviceDrainSeconds(s, model)])),
  };
}

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

  test('Kafka is the version the local stack runs (infra/local/pom.xml)', () => {
    const pom = readFileSync(repoPath('infra', 'local', 'pom.xml'), 'utf8');
    const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    expect(compose.services.kafka!.image).toBe(`apache/kafka:${version}`);
    expect(compose.services['kafka-init']!.image).toBe(`apache/kafka:${version}`);
    expect(compose.services['kafka-access']!.image).toBe(`apache/kafka:${version}`);
  });

  test.each(KAFKA_LOGINS)(
    '$service: logs in to Kafka as its own principal $service with its own password, never the admin',
    ({ service, variable }) => {
      const env = serviceEnvironment(compose.services[service]!);
      expect(env).toMatchObject({
        KAFKA_SASL_USERNAME: service,
        KAFKA_SASL_PASSWORD: OPERATOR_ENV[variable],
      });
      expect(env.KAFKA_SASL_USERNAME).not.toBe(KAFKA_ADMIN);
      expect(env.KAFKA_SASL_PASSWORD).not.toBe(OPERATOR_ENV.KAFKA_ADMIN_PASSWORD);
      expect(env).not.toHaveProperty('KAFKA_ADMIN_PASSWORD');
      // Nobody else holds this password but the job that creates the login.
      const holders = Object.entries(compose.services)
        .filter(([, s]) => Object.values(serviceEnvironment(s)).includes(OPERATOR_ENV[variable]!))
        .map(([name]) => name)
        .sort();
      expect(holders).toEqual(['kafka-access', service].sort());
    },
  );

  test('only the broker and the init jobs hold the Kafka admin password', () => {
    const holders = Object.entries(compose.services)
      .filter(([, s]) =>
        Object.values(serviceEnvironment(s)).some((v) => v.includes(OPERATOR_ENV.KAFKA_ADMIN_PASSWORD!)),
      )
      .map(([name]) => name)
      .sort();
    expect(holders).toEqual(['kafka', 'kafka-access', 'kafka-init']);
  });

  test("kafka-access runs the generated access.sh as the admin, with every principal's password", () => {
    const access = compose.services['kafka-access']!;
    expect(access.entrypoint).toEqual(['/bin/bash', '/etc/dispatch/kafka/access.sh']);
    expect(access.configs).toEqual([{ source: 'kafka-access', target: '/etc/dispatch/kafka/access.sh' }]);
    expect(compose.configs?.['kafka-access']).toEqual({ file: './k8s/base/kafka/access.sh' });
    expect(path.resolve(REPO_ROOT, compose.configs!['kafka-access']!.file!)).toBe(KAFKA_ACCESS_SCRIPT);
    const env = serviceEnvironment(access);
    expect(env).toMatchObject({
      KAFKA_BROKERS: 'kafka:29092',
      KAFKA_ADMIN_PASSWORD: OPERATOR_ENV.KAFKA_ADMIN_PASSWORD,
    });
    for (const login of KAFKA_LOGINS) {
      // The same value the service logs in with.
      expect(env[login.variable]).toBe(
        serviceEnvironment(compose.services[login.service]!).KAFKA_SASL_PASSWORD,
      );
    }
    for (const variable of KAFKA_TOOL_VARIABLES) expect(env[variable]).toBe('');
    expect(dependsOn(access)).toEqual({ kafka: 'service_healthy' });
    expect(access.restart).toBe('no');
  });

  test('the broker refuses anonymous clients: every listener SASL, ACLs decide, as the local stack', () => {
    const kafka = compose.services.kafka!;
    expect(kafka.entrypoint).toEqual(['/bin/bash', '/etc/dispatch/kafka/broker.sh']);
    expect(kafka.configs).toEqual([
      { source: 'kafka-broker', target: '/etc/dispatch/kafka/broker.sh' },
      { source: 'kafka-server-properties', target: '/etc/dispatch/kafka/server.properties' },
    ]);
    expect(compose.configs?.['kafka-broker']).toEqual({ file: './k8s/overlays/dev/kafka/broker.sh' });
    const env = serviceEnvironment(kafka);
    expect(env).toMatchObject({
      KAFKA_CONFIG: '/etc/dispatch/kafka/server.properties',
      KAFKA_ADMIN_PASSWORD: OPERATOR_ENV.KAFKA_ADMIN_PASSWORD,
      KAFKA_CONTROLLER_PASSWORD: OPERATOR_ENV.KAFKA_CONTROLLER_PASSWORD,
    });
    // No KAFKA_* broker settings from the environment: the properties file is the whole config.
    expect(Object.keys(env).sort()).toEqual([
      'KAFKA_ADMIN_PASSWORD',
      'KAFKA_CONFIG',
      'KAFKA_CONTROLLER_PASSWORD',
    ]);
    const file = compose.configs!['kafka-server-properties']!.file!;
    const properties = parseProperties(readFileSync(path.resolve(REPO_ROOT, file), 'utf8'));
    expect(brokerAuthProblems(properties)).toEqual([]);
    const local = parseProperties(
      readFileSync(repoPath('infra', 'local', 'kafka', 'server.properties'), 'utf8'),
    );
    expect(sharedAuthSettings(properties)).toEqual(sharedAuthSettings(local));
    // Containers reach INTERNAL (kafka:29092), the host EXTERNAL (localhost:9092), both SCRAM.
    expect(properties['advertised.listeners']).toBe('INTERNAL://kafka:29092,EXTERNAL://localhost:9092');
    // EXTERNAL reaches the host only through servers-on-loopback.yml, at the port it advertises.
    expect(publishedContainerPorts(kafka)).toEqual([]);
    const loopback = parse(readFileSync(SERVERS_ON_LOOPBACK, 'utf8')) as ComposeFile;
    expect(publishedPorts(loopback.services.kafka!)).toEqual([
      { hostIp: '127.0.0.1', published: '9092', target: 9092, spec: '127.0.0.1:9092:9092' },
    ]);
    // The health check logs in as the admin too (with the client settings broker.sh writes).
    expect(JSON.stringify(kafka.healthcheck?.test)).toContain(
      '--command-config /tmp/dispatch-kafka/admin.properties',
    );
  });

  test('kafka-init creates the topics as the admin', () => {
    const init = compose.services['kafka-init']!;
    expect(serviceEnvironment(init).KAFKA_ADMIN_PASSWORD).toBe(OPERATOR_ENV.KAFKA_ADMIN_PASSWORD);
    const script = (init.command as string[]).join('\n');
    expect(script).toContain('username="admin"');
    expect(script).toContain('--command-config "$admin"');
    expect(script).not.toMatch(/kafka-topics\.sh(?![^\n]*--command-config)/);
  });

  test('kafka-init creates the topics the local stack creates, raw.* with unlimited retention', () => {
    const script = (compose.services['kafka-init']!.command as string[]).join('\n');
    for (const topic of stackTopics(6)) {
      const [prefix, rest] = topic.name.split('.') as [string, string];
      expect(script).toContain(rest);
      expect(script).toContain(prefix === 'dlq' ? '"dlq.$s"' : '--config retention.ms=-1');
    }
    expect(serviceEnvironment(compose.services['kafka-init']!).PARTITIONS).toBe('6');
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

describe('docker-compose.yml: stopping and publishing', () => {
  test('the six services drain within SHUTDOWN_TIMEOUT_MS (20 s unless set)', () => {
    for (const s of SERVICE_CONFIGS)
      expect(`${s.name}: ${serviceDrainSeconds(s, compose)}`).toBe(`${s.name}: 20`);
  });

  test('every container has a stop_grace_period longer than its drain', () => {
    expect(stopGraceProblems(compose, drainSeconds(compose))).toEqual([]);
  });

  test('the stop_grace_period check fails on a missing one, one too short, and a longer drain', () => {
    const broken = structuredClone(compose);
    delete broken.services['order-service']!.stop_grace_period;
    broken.services['query-api']!.stop_grace_period = '20s';
    broken.services.kafka!.stop_grace_period = 'soon';
    // A drain raised past the grace period: 45 s of drain, 30 s before SIGKILL.
    (broken.services['payment-service']!.environment as Record<string, string>).SHUTDOWN_TIMEOUT_MS = '45000';
    broken.services.unknown = { image: 'busybox', stop_grace_period: '1m' };
    expect(stopGraceProblems(broken, drainSeconds(broken))).toEqual([
      'kafka: stop_grace_period "soon" is not a duration',
      'query-api: stop_grace_period 20s is not longer than its drain (20 s)',
      "order-service: no stop_grace_period (compose's default 10 s, then SIGKILL)",
      'payment-service: stop_grace_period 30s is not longer than its drain (45 s)',
      'unknown: no known drain time (add it to the check)',
    ]);
  });

  test.each([
    ['30s', 30],
    ['1m30s', 90],
    ['500ms', 0.5],
    ['1h', 3600],
    ['30', Number.NaN],
    ['s30', Number.NaN],
  ])('duration %s = %d s', (duration, seconds) => {
    expect(durationSeconds(duration)).toBe(seconds);
  });

  test('only the APIs (and Prometheus, Grafana) are published, on 127.0.0.1 by default, each port movable', () => {
    expect(publishProblems(compose)).toEqual([]);
    const publishing = Object.entries(compose.services)
      .filter(([, service]) => publishedPorts(service).length > 0)
      .map(([name]) => name)
      .sort();
    expect(publishing).toEqual([...SERVICE_CONFIGS.map((s) => s.name), 'prometheus', 'grafana'].sort());
    const raw = parse(text) as ComposeFile;
    const expected: Record<string, number> = {
      ...Object.fromEntries(SERVICE_CONFIGS.map((s) => [s.name, s.port])),
      prometheus: 9090,
      grafana: 3000,
    };
    for (const [name, port] of Object.entries(expected)) {
      const variable = `${name.replaceAll('-', '_').toUpperCase()}_HOST_PORT`;
      expect(raw.services[name]!.ports).toEqual([
        `\${DISPATCH_PUBLISH_ADDRESS:-127.0.0.1}:\${${variable}:-${port}}:${port}`,
      ]);
      expect(publishedPorts(compose.services[name]!)).toEqual([
        { hostIp: '127.0.0.1', published: String(port), target: port, spec: `127.0.0.1:${port}:${port}` },
      ]);
    }
    // The host port moves, the address stays loopback.
    const moved = loadCompose(text, { ...OPERATOR_ENV, ORDER_SERVICE_HOST_PORT: '18081' });
    expect(publishedPorts(moved.services['order-service']!)[0]).toMatchObject({
      hostIp: '127.0.0.1',
      published: '18081',
      target: 8081,
    });
  });

  test('the servers are not published (the services reach them on compose network)', () => {
    for (const server of ['kafka', 'cassandra', 'postgres', 'redis']) {
      expect(`${server}: ${JSON.stringify(compose.services[server]!.ports ?? [])}`).toBe(`${server}: []`);
    }
  });

  test('a port on every interface or a non-loopback address fails the check', () => {
    const broken = structuredClone(compose);
    broken.services['order-service']!.ports = ['8081:8081'];
    broken.services['query-api']!.ports = ['0.0.0.0:8080:8080/tcp'];
    broken.services['payment-service']!.ports = ['[::]:8082:8082'];
    broken.services['inventory-service']!.ports = [{ target: 8083, published: 8083 }];
    broken.services['delivery-service']!.ports = ['192.168.1.5:8084:8084'];
    broken.services['webhook-service']!.ports = ['[::1]:8085:8085', '127.0.0.2:18085:8085'];
    broken.services.redis!.ports = ['6379'];
    expect(publishProblems(broken).sort()).toEqual(
      [
        'query-api: "0.0.0.0:8080:8080/tcp" is published on every interface, not on loopback (127.0.0.1)',
        'order-service: "8081:8081" is published on every interface, not on loopback (127.0.0.1)',
        'payment-service: "[::]:8082:8082" is published on every interface, not on loopback (127.0.0.1)',
        'inventory-service: ":8083:8083" is published on every interface, not on loopback (127.0.0.1)',
        'delivery-service: "192.168.1.5:8084:8084" is published on 192.168.1.5, not on loopback (127.0.0.1)',
        'redis: "6379" is published on every interface, not on loopback (127.0.0.1)',
      ].sort(),
    );
    // An operator who opts in to another address is told so by the same check.
    const everywhere = loadCompose(text, { ...OPERATOR_ENV, DISPATCH_PUBLISH_ADDRESS: '0.0.0.0' });
    expect(publishProblems(everywhere)).toHaveLength(8);
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['', '0.0.0.0', '::', '10.0.0.1', '128.0.0.1'].some(isLoopback)).toBe(false);
  });

  test('servers-on-loopback.yml publishes the four servers on loopback only, at their client ports', () => {
    const loopback = parse(readFileSync(SERVERS_ON_LOOPBACK, 'utf8')) as ComposeFile;
    expect(composeSchemaProblems(loopback)).toEqual([]);
    expect(publishProblems(loopback)).toEqual([]);
    const ports = Object.fromEntries(
      Object.entries(loopback.services).map(([name, service]) => [name, publishedPorts(service)]),
    );
    expect(ports).toEqual({
      kafka: [{ hostIp: '127.0.0.1', published: '9092', target: 9092, spec: '127.0.0.1:9092:9092' }],
      cassandra: [{ hostIp: '127.0.0.1', published: '9042', target: 9042, spec: '127.0.0.1:9042:9042' }],
      postgres: [{ hostIp: '127.0.0.1', published: '5432', target: 5432, spec: '127.0.0.1:5432:5432' }],
      redis: [{ hostIp: '127.0.0.1', published: '6379', target: 6379, spec: '127.0.0.1:6379:6379' }],
    });
    // It only adds ports: nothing else of the services it names.
    for (const [name, service] of Object.entries(loopback.services)) {
      expect(compose.services[name]).toBeDefined();
      expect(Object.keys(service)).toEqual(['ports']);
    }
  });
});

describe('docker-compose.yml without a registry (podman-compose on this machine)', () => {
  const PODMAN_1_0 = repoPath('infra', 'compose', 'podman-compose-1.0.yml');

  test('the server images are the official ones unless KAFKA_IMAGE, … pick others; init jobs use their server image', () => {
    const raw = parse(text) as ComposeFile;
    const expected: Record<string, string> = {
      kafka: '${KAFKA_IMAGE:-apache/kafka:4.3.1}',
      'kafka-init': '${KAFKA_IMAGE:-apache/kafka:4.3.1}',
      'kafka-access': '${KAFKA_IMAGE:-apache/kafka:4.3.1}',
      cassandra: '${CASSANDRA_IMAGE:-cassandra:5.0}',
      'cassandra-init': '${CASSANDRA_IMAGE:-cassandra:5.0}',
      postgres: '${POSTGRES_IMAGE:-postgres:15}',
      'postgres-init': '${POSTGRES_IMAGE:-postgres:15}',
      redis: '${REDIS_IMAGE:-redis:7}',
    };
    for (const [name, image] of Object.entries(expected))
      expect(`${name}: ${raw.services[name]!.image}`).toBe(`${name}: ${image}`);
    const local = loadCompose(text, { ...OPERATOR_ENV, KAFKA_IMAGE: 'localhost/dispatch/kafka:4.3.1' });
    expect(local.services['kafka-access']!.image).toBe('localhost/dispatch/kafka:4.3.1');
  });

  test('podman-compose-1.0.yml bind-mounts every file config a service uses, read-only at its target', () => {
    const override = loadCompose(readFileSync(PODMAN_1_0, 'utf8'), OPERATOR_ENV);
    expect(composeSchemaProblems(override)).toEqual([]);
    const expected: Record<string, string[]> = {};
    for (const [name, service] of Object.entries(compose.services)) {
      for (const config of service.configs ?? []) {
        const { source, target } =
          typeof config === 'string' ? { source: config, target: undefined } : config;
        const definition = compose.configs![source]!;
        if (definition.content !== undefined) continue; // inline: nothing to mount (grafana)
        const file = definition.file!.replace(/^(?!\.|\/)/, './').replace(/^\.\/\.stack/, '.stack');
        expected[name] = [...(expected[name] ?? []), `${file}:${target ?? `/${source}`}:ro`];
      }
    }
    const mounted = Object.fromEntries(
      Object.entries(override.services)
        .filter(([, service]) => service.volumes)
        .map(([name, service]) => [name, service.volumes as string[]]),
    );
    expect(mounted).toEqual(expected);
    // What it cannot mount: grafana's inline provisioning (so grafana is left out with 1.0.x).
    expect(Object.keys(expected)).not.toContain('grafana');
    expect(compose.services.grafana!.configs?.length).toBeGreaterThan(0);
    // The tools' optional Kafka logins, which 1.0.x would pass as the literal "${VAR:-}".
    expect(serviceEnvironment(override.services['kafka-access']!)).toEqual({
      DISPATCH_DLQ_KAFKA_PASSWORD: '',
      DISPATCH_REBUILD_KAFKA_PASSWORD: '',
    });
    expect(publishProblems(override)).toEqual([]);
  });
});
