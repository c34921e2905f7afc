import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KAFKA_ADMIN } from '../../stack/kafka-acls';
import { stackTopics } from '../../stack/topics';
import { httpRouteReferenceProblems, httpRouteShapeProblems, matchesPath, routeTable } from './gateway-api';
import {
  type Container,
  findObject,
  probeProblems,
  resolveEnv,
  resolvePort,
  securityProblems,
  selects,
  valueSources,
  workloads,
} from './k8s-checks';
import {
  deploymentPrincipals,
  isToolPrincipal,
  passwordVariable,
  principalSecret,
  usernameVariable,
} from './kafka-access';
import { brokerAuthProblems, parseProperties, sharedAuthSettings } from './kafka-broker';
import { type KubeObject, KubernetesValidator } from './kubernetes-schemas';
import { parseManifests, renderKustomization } from './kustomize';
import { COMPOSE_FILE, K8S_DIR, KAFKA_ACCESS_SCRIPT, repoPath } from './paths';
import { configProblems, SERVICE_CONFIGS } from './service-configs';

const validator = new KubernetesValidator();

/** Secrets the operator creates outside the kustomizations; their templates list the keys. */
function template(file: string, values: Record<string, string> = {}): KubeObject {
  const [secret] = parseManifests(readFileSync(path.join(K8S_DIR, file), 'utf8'));
  const data = { ...(secret!.stringData as Record<string, string>), ...values };
  return { ...secret!, stringData: data };
}
const SECRETS_TEMPLATE = 'base/secret.template.yaml';
const INFRA_TEMPLATE = 'overlays/prod/dispatch-infra.template.yaml';
/** One Secret <service>-postgres per service with a database: its own PostgreSQL login. */
const PG_ROLES_TEMPLATE = 'base/postgres-roles.template.yaml';
const PG_ROLES = SERVICE_CONFIGS.filter((s) => s.name !== 'query-api').map((s) => ({
  service: s.name,
  secret: `${s.name}-postgres`,
  role: s.name.replaceAll('-', '_'),
}));
/** The per-service Secrets as the operator creates them, with stand-in passwords. */
function roleSecrets(): KubeObject[] {
  return parseManifests(readFileSync(path.join(K8S_DIR, PG_ROLES_TEMPLATE), 'utf8')).map((secret) => ({
    ...secret,
    stringData: {
      ...(secret.stringData as Record<string, string>),
      PGPASSWORD: `k8s-check-${secret.metadata.name}`,
    },
  }));
}
/** The Cassandra logins: the admin (only the roles Job) and query-api's own role. */
const CASSANDRA_ROLES_TEMPLATE = 'base/cassandra-roles.template.yaml';
function cassandraSecrets(): KubeObject[] {
  return parseManifests(readFileSync(path.join(K8S_DIR, CASSANDRA_ROLES_TEMPLATE), 'utf8')).map((secret) => ({
    ...secret,
    stringData: {
      ...(secret.stringData as Record<string, string>),
      CASSANDRA_PASSWORD: `k8s-check-${secret.metadata.name}`,
    },
  }));
}
/** The Kafka logins: one Secret per principal of the catalogue (<name>-kafka) and the admin's. */
const KAFKA_TEMPLATE = 'base/kafka-principals.template.yaml';
/** The dev broker's own controller login. */
const KAFKA_CONTROLLER_TEMPLATE = 'overlays/dev/kafka-controller.template.yaml';
function kafkaSecrets(file = KAFKA_TEMPLATE): KubeObject[] {
  return parseManifests(readFileSync(path.join(K8S_DIR, file), 'utf8')).map((secret) => {
    const data = secret.stringData as Record<string, string>;
    const key = 'KAFKA_SASL_PASSWORD' in data ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_CONTROLLER_PASSWORD';
    return { ...secret, stringData: { ...data, [key]: `k8s-check-${secret.metadata.name}` } };
  });
}
const KAFKA_PRINCIPALS = deploymentPrincipals().map((p) => p.name);
/** The issuer's public keys, a ConfigMap the operator creates (token-jwks.template.yaml). */
const JWKS_TEMPLATE = 'base/token-jwks.template.yaml';
/** Stand-ins for the values the operator generates (the templates leave them empty). */
const OPERATOR_SECRETS = {
  PGPASSWORD: 'k8s-check-password',
};

/** The Gateway an overlay attaches its HTTPRoutes to (its gateway.yaml, a kustomize-local ConfigMap). */
function gatewayConfig(overlayDir: string): { name: string; namespace: string; proxyNamespace: string } {
  const [config] = parseManifests(readFileSync(path.join(K8S_DIR, overlayDir, 'gateway.yaml'), 'utf8'));
  return config!.data as { name: string; namespace: string; proxyNamespace: string };
}

/** The public routes, host's first label, method, path → Service:port (as the Ingress had them). */
const PUBLIC_ROUTES = [
  'api * /api/orders → order-service:8081',
  'api * /api/inventory → inventory-service:8083',
  'api * /api/payments → payment-service:8082',
  'api * /api/drivers → delivery-service:8084',
  'api * /api/deliveries → delivery-service:8084',
  'api * /api/webhooks → webhook-service:8085',
  'query * /api/orders → query-api:8080',
];

interface Overlay {
  name: string;
  dir: string;
  /** The HTTPRoutes' hostnames. */
  domain: string;
  /** Secrets that must exist in the namespace before `kubectl apply -k`. */
  external: KubeObject[];
}

const OVERLAYS: Overlay[] = [
  {
    name: 'dev',
    dir: 'overlays/dev',
    domain: 'dispatch.localhost',
    external: [
      template(SECRETS_TEMPLATE, OPERATOR_SECRETS),
      ...roleSecrets(),
      ...cassandraSecrets(),
      ...kafkaSecrets(),
      ...kafkaSecrets(KAFKA_CONTROLLER_TEMPLATE),
    ],
  },
  {
    name: 'prod',
    dir: 'overlays/prod',
    domain: 'dispatch.example.com',
    external: [
      template(SECRETS_TEMPLATE, OPERATOR_SECRETS),
      template(INFRA_TEMPLATE),
      ...roleSecrets(),
      ...cassandraSecrets(),
      ...kafkaSecrets(),
    ],
  },
];

test('the Secret templates are valid Secrets without values for the secrets', () => {
  for (const file of [SECRETS_TEMPLATE, INFRA_TEMPLATE]) {
    const [secret] = parseManifests(readFileSync(path.join(K8S_DIR, file), 'utf8'));
    expect(validator.validate(secret!)).toEqual([]);
  }
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, SECRETS_TEMPLATE), 'utf8'))[0]!;
  expect(Object.values(secrets.stringData as Record<string, string>)).toEqual(['']);
});

test('the PostgreSQL roles template: one valid Secret per service with its role name and no password', () => {
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, PG_ROLES_TEMPLATE), 'utf8'));
  for (const secret of secrets) expect(validator.validate(secret)).toEqual([]);
  expect(secrets.map((s) => [s.metadata.name, s.metadata.namespace, s.stringData])).toEqual(
    PG_ROLES.map((r) => [r.secret, 'dispatch', { PGUSER: r.role, PGPASSWORD: '' }]),
  );
});

test('the Cassandra roles template: the admin and query_api logins, valid Secrets without a password', () => {
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, CASSANDRA_ROLES_TEMPLATE), 'utf8'));
  for (const secret of secrets) expect(validator.validate(secret)).toEqual([]);
  expect(secrets.map((s) => [s.metadata.name, s.metadata.namespace, s.stringData])).toEqual([
    [
      'dispatch-cassandra-admin',
      'dispatch',
      { CASSANDRA_USERNAME: 'dispatch_admin', CASSANDRA_PASSWORD: '' },
    ],
    ['query-api-cassandra', 'dispatch', { CASSANDRA_USERNAME: 'query_api', CASSANDRA_PASSWORD: '' }],
  ]);
});

test('the Kafka template: one valid Secret per principal of the catalogue and the admin, named after it, no password', () => {
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, KAFKA_TEMPLATE), 'utf8'));
  for (const secret of secrets) expect(validator.validate(secret)).toEqual([]);
  expect(secrets.map((s) => [s.metadata.name, s.metadata.namespace, s.stringData])).toEqual(
    [...KAFKA_PRINCIPALS, KAFKA_ADMIN].map((name) => [
      principalSecret(name),
      'dispatch',
      { KAFKA_SASL_USERNAME: name, KAFKA_SASL_PASSWORD: '' },
    ]),
  );
  const [controller] = parseManifests(readFileSync(path.join(K8S_DIR, KAFKA_CONTROLLER_TEMPLATE), 'utf8'));
  expect(validator.validate(controller!)).toEqual([]);
  expect([controller!.metadata.name, controller!.stringData]).toEqual([
    'dispatch-kafka-controller',
    { KAFKA_CONTROLLER_PASSWORD: '' },
  ]);
});

test('the token JWKS template is a valid ConfigMap holding an empty, public-only JWKS', () => {
  const [jwks] = parseManifests(readFileSync(path.join(K8S_DIR, JWKS_TEMPLATE), 'utf8'));
  expect(validator.validate(jwks!)).toEqual([]);
  expect(jwks).toMatchObject({
    kind: 'ConfigMap',
    metadata: { name: 'dispatch-token-jwks', namespace: 'dispatch' },
  });
  expect(JSON.parse((jwks!.data as Record<string, string>)['jwks.json']!)).toEqual({ keys: [] });
});

describe.each(OVERLAYS)('k8s/$name', (overlay) => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderKustomization(path.join(K8S_DIR, overlay.dir));
  });
  const deployment = (name: string) => findObject(objects, 'Deployment', name);
  const container = (name: string): Container =>
    (deployment(name)!.spec as { template: { spec: { containers: Container[] } } }).template.spec
      .containers[0]!;

  test('every rendered object is valid against the Kubernetes 1.34 schemas, unknown fields included', () => {
    const problems = objects.flatMap((o) =>
      validator.validate(o).map((p) => `${o.kind} ${o.metadata.name}${p}`),
    );
    expect(problems).toEqual([]);
  });

  test("NetworkPolicies: default deny; each service receives only from the Gateway's proxies and Prometheus, on its port, and reaches only its servers", () => {
    interface Policy {
      podSelector: { matchLabels?: Record<string, string> };
      policyTypes: string[];
      ingress?: {
        from: { namespaceSelector?: { matchLabels: Record<string, string> } }[];
        ports: { port: number }[];
      }[];
      egress?: { ports: { port: number }[]; to?: unknown[] }[];
    }
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const spec = (name: string) => findObject(policies, 'NetworkPolicy', name)?.spec as Policy | undefined;
    expect(spec('default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const needs: Record<string, number[]> = {
      'query-api': [6379, 9042, 9092],
      'order-service': [5432, 6379, 9092],
      'payment-service': [5432, 6379, 9092],
      'inventory-service': [5432, 6379, 9092],
      'delivery-service': [5432, 6379, 9092],
      'webhook-service': [443, 5432, 6379, 9092],
    };
    expect(spec('dispatch-cassandra-roles')).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'dispatch-cassandra-roles' } },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ protocol: 'TCP', port: 9042 }] }],
    });
    for (const job of ['dispatch-kafka-access', 'dispatch-topics']) {
      expect(spec(job)).toEqual({
        podSelector: { matchLabels: { 'app.kubernetes.io/name': job } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'TCP', port: 9092 }] }],
      });
    }
    expect(spec('dispatch-postgres-roles')).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'dispatch-postgres-roles' } },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ protocol: 'TCP', port: 5432 }] }],
    });
    for (const service of SERVICE_CONFIGS) {
      const policy = spec(service.name);
      expect(policy?.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': service.name });
      expect(policy?.policyTypes).toEqual(['Ingress', 'Egress']);
      const sources = policy?.ingress?.flatMap((rule) =>
        rule.from.map((f) => f.namespaceSelector?.matchLabels),
      );
      expect(sources).toEqual([
        { 'kubernetes.io/metadata.name': gatewayConfig(overlay.dir).proxyNamespace },
        { 'kubernetes.io/metadata.name': 'monitoring' },
      ]);
      expect(policy?.ingress?.flatMap((rule) => rule.ports.map((p) => p.port))).toEqual([service.port]);
      const reach = (policy?.egress ?? [])
        .flatMap((rule) => rule.ports.map((p) => p.port))
        .sort((a, b) => a - b);
      expect([service.name, reach]).toEqual([service.name, needs[service.name]]);
    }
  });

  test('everything is in the dispatch namespace', () => {
    const elsewhere = objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'dispatch');
    expect(elsewhere.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
  });

  test.each(SERVICE_CONFIGS)('$name: listens on $port, probes /health/live and /health/ready there', (s) => {
    const c = container(s.name);
    const env = resolveEnv(c, valueSources(objects, overlay.external)).env;
    expect(env.PORT).toBe(String(s.port));
    expect(resolvePort(c, 'http')).toBe(s.port);
    expect(probeProblems(c, s.port)).toEqual([]);
  });

  test.each(SERVICE_CONFIGS)(
    '$name: sets only variables of its config schema, and would start with them',
    (s) => {
      const { env, problems } = resolveEnv(container(s.name), valueSources(objects, overlay.external));
      expect(problems).toEqual([]);
      expect(configProblems(s.schema, env)).toEqual([]);
    },
  );

  test.each(SERVICE_CONFIGS)(
    '$name: verifies tokens with the public JWKS only, mounted read-only; no token secret or signing key',
    (s) => {
      const c = container(s.name);
      const { env } = resolveEnv(c, valueSources(objects, overlay.external));
      expect(env).toMatchObject({
        AUTH_JWKS_FILE: '/etc/dispatch/auth/jwks.json',
        AUTH_JWT_ISSUER: 'dispatch',
        AUTH_JWT_AUDIENCE: 'dispatch-api',
        AUTH_MAX_TOKEN_LIFETIME: '24h',
      });
      expect(env).not.toHaveProperty('AUTH_JWT_SECRET');
      const mount = (c.volumeMounts ?? []).find((m) => m.name === 'token-jwks');
      expect(mount).toEqual({ name: 'token-jwks', mountPath: '/etc/dispatch/auth', readOnly: true });
      const pod = (deployment(s.name)!.spec as { template: { spec: { volumes: Record<string, unknown>[] } } })
        .template.spec;
      expect(pod.volumes.find((v) => v.name === 'token-jwks')).toEqual({
        name: 'token-jwks',
        configMap: { name: 'dispatch-token-jwks', optional: true },
      });
    },
  );

  test.each(PG_ROLES)(
    '$service: logs in to PostgreSQL as its own role $role, from its own Secret, never the admin',
    ({ service, secret, role }) => {
      const c = container(service);
      const refs = Object.fromEntries(
        (c.env ?? []).filter((v) => v.name.startsWith('PG')).map((v) => [v.name, v.valueFrom?.secretKeyRef]),
      );
      expect(refs.PGUSER).toEqual({ name: secret, key: 'PGUSER' });
      expect(refs.PGPASSWORD).toEqual({ name: secret, key: 'PGPASSWORD' });
      const { env } = resolveEnv(c, valueSources(objects, overlay.external));
      expect(env.PGUSER).toBe(role);
      expect(env.PGPASSWORD).toBe(`k8s-check-${secret}`);
    },
  );

  test("the PostgreSQL roles Job applies service-role.sql as the admin, with each service's role, password and database", () => {
    const job = workloads(objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-postgres-roles')!;
    const c = job.pod.containers[0] as Container & { args: string[] };
    const { env, problems } = resolveEnv(c, valueSources(objects, overlay.external));
    expect(problems).toEqual([]);
    expect(env.PGPASSWORD).toBe(OPERATOR_SECRETS.PGPASSWORD);
    expect(env.PGDATABASE).toBe('postgres');
    for (const r of PG_ROLES) {
      const prefix = r.role.toUpperCase();
      const own = resolveEnv(container(r.service), valueSources(objects, overlay.external)).env;
      expect([env[`${prefix}_PGUSER`], env[`${prefix}_PGPASSWORD`], env[`${prefix}_PGDATABASE`]]).toEqual([
        own.PGUSER,
        own.PGPASSWORD,
        own.PGDATABASE,
      ]);
      expect(c.args.join('\n')).toContain(prefix.replace('_SERVICE', ''));
    }
    expect(c.args.join('\n')).toContain('\\i /etc/dispatch/postgres/service-role.sql');
    const volume = (job.pod.volumes ?? []).find((v) => v.name === 'sql') as unknown as {
      configMap: { name: string };
    };
    const sql = findObject(objects, 'ConfigMap', volume.configMap.name)!;
    expect((sql.data as Record<string, string>)['service-role.sql']).toBe(
      readFileSync(path.join(K8S_DIR, 'base/postgres/service-role.sql'), 'utf8'),
    );
  });

  test.each(SERVICE_CONFIGS)(
    '$name: logs in to Kafka as its own principal $name, from its own Secret, never the admin',
    (s) => {
      const c = container(s.name);
      const refs = Object.fromEntries(
        (c.env ?? [])
          .filter((v) => v.name.startsWith('KAFKA_SASL_'))
          .map((v) => [v.name, v.valueFrom?.secretKeyRef]),
      );
      expect(refs).toEqual({
        KAFKA_SASL_USERNAME: { name: `${s.name}-kafka`, key: 'KAFKA_SASL_USERNAME' },
        KAFKA_SASL_PASSWORD: { name: `${s.name}-kafka`, key: 'KAFKA_SASL_PASSWORD' },
      });
      const { env } = resolveEnv(c, valueSources(objects, overlay.external));
      expect([env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD]).toEqual([
        s.name,
        `k8s-check-${s.name}-kafka`,
      ]);
      expect(env.KAFKA_SASL_USERNAME).not.toBe(KAFKA_ADMIN);
      // KAFKA_TLS only when dispatch-infra says so (prod's template: SASL_SSL).
      expect(env.KAFKA_TLS).toBe(overlay.name === 'prod' ? 'true' : undefined);
    },
  );

  test('only the Kafka provisioning Jobs (and the dev broker) read the Kafka admin login; each login Secret only its owner and the access Job', () => {
    const readers = new Map<string, Set<string>>();
    for (const w of workloads(objects)) {
      for (const c of w.pod.containers) {
        for (const v of c.env ?? []) {
          const secret = v.valueFrom?.secretKeyRef?.name;
          if (secret?.endsWith('-kafka') || secret?.startsWith('dispatch-kafka-'))
            readers.set(secret, new Set([...(readers.get(secret) ?? []), w.name]));
        }
        expect((c.envFrom ?? []).filter((f) => f.secretRef?.name.includes('kafka'))).toEqual([]);
      }
    }
    const sorted = (name: string) => [...(readers.get(name) ?? [])].sort();
    expect(sorted('dispatch-kafka-admin')).toEqual(
      ['dispatch-kafka-access', 'dispatch-topics', ...(overlay.name === 'dev' ? ['kafka'] : [])].sort(),
    );
    for (const s of SERVICE_CONFIGS)
      expect(sorted(`${s.name}-kafka`)).toEqual(['dispatch-kafka-access', s.name].sort());
    for (const tool of KAFKA_PRINCIPALS.filter(isToolPrincipal))
      expect(sorted(principalSecret(tool))).toEqual(['dispatch-kafka-access']);
  });

  test("the Kafka access Job runs the generated access.sh as the admin, with every principal's own login", () => {
    const job = workloads(objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-kafka-access')!;
    const c = job.pod.containers[0] as Container & { command: string[] };
    expect(c.command).toEqual(['/bin/bash', '/etc/dispatch/kafka/access.sh']);
    const sources = valueSources(objects, overlay.external);
    const { env, problems } = resolveEnv(c, sources);
    expect(problems).toEqual([]);
    expect(env).toMatchObject({
      KAFKA_ADMIN_USERNAME: KAFKA_ADMIN,
      KAFKA_ADMIN_PASSWORD: 'k8s-check-dispatch-kafka-admin',
    });
    for (const s of SERVICE_CONFIGS) {
      const own = resolveEnv(container(s.name), sources).env;
      expect([env[usernameVariable(s.name)], env[passwordVariable(s.name)]]).toEqual([
        own.KAFKA_SASL_USERNAME,
        own.KAFKA_SASL_PASSWORD,
      ]);
      expect(env.KAFKA_BROKERS).toBe(own.KAFKA_BROKERS);
    }
    // The tools' Secrets are optional: without them the Job still runs (and creates no login for them).
    const toolRefs = (c.env ?? [])
      .filter((v) =>
        KAFKA_PRINCIPALS.filter(isToolPrincipal).some(
          (t) => v.valueFrom?.secretKeyRef?.name === principalSecret(t),
        ),
      )
      .map((v) => v.valueFrom?.secretKeyRef?.optional);
    expect(toolRefs).toEqual([true, true, true, true]);
    const volume = (job.pod.volumes ?? []).find((v) => v.name === 'script') as unknown as {
      configMap: { name: string };
    };
    const script = findObject(objects, 'ConfigMap', volume.configMap.name)!;
    expect((script.data as Record<string, string>)['access.sh']).toBe(
      readFileSync(KAFKA_ACCESS_SCRIPT, 'utf8'),
    );
  });

  test('query-api logs in to Cassandra as query_api from its own Secret; the roles Job as the admin, with the script compose runs', () => {
    const refs = Object.fromEntries(
      (container('query-api').env ?? [])
        .filter((v) => v.name.startsWith('CASSANDRA_'))
        .map((v) => [v.name, v.valueFrom?.secretKeyRef]),
    );
    expect([refs.CASSANDRA_USERNAME, refs.CASSANDRA_PASSWORD]).toEqual([
      { name: 'query-api-cassandra', key: 'CASSANDRA_USERNAME' },
      { name: 'query-api-cassandra', key: 'CASSANDRA_PASSWORD' },
    ]);
    const own = resolveEnv(container('query-api'), valueSources(objects, overlay.external)).env;
    expect([own.CASSANDRA_USERNAME, own.CASSANDRA_PASSWORD]).toEqual([
      'query_api',
      'k8s-check-query-api-cassandra',
    ]);

    const job = workloads(objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-cassandra-roles')!;
    const c = job.pod.containers[0] as Container & { command: string[] };
    const { env, problems } = resolveEnv(c, valueSources(objects, overlay.external));
    expect(problems).toEqual([]);
    expect(env).toMatchObject({
      CASSANDRA_ADMIN_USERNAME: 'dispatch_admin',
      CASSANDRA_ADMIN_PASSWORD: 'k8s-check-dispatch-cassandra-admin',
      QUERY_API_CASSANDRA_USERNAME: own.CASSANDRA_USERNAME,
      QUERY_API_CASSANDRA_PASSWORD: own.CASSANDRA_PASSWORD,
      CASSANDRA_CONTACT_POINTS: own.CASSANDRA_CONTACT_POINTS,
      CASSANDRA_KEYSPACE: own.CASSANDRA_KEYSPACE,
      CASSANDRA_REPLICATION_STRATEGY: own.CASSANDRA_REPLICATION_STRATEGY,
      CASSANDRA_REPLICATION_FACTOR: own.CASSANDRA_REPLICATION_FACTOR,
    });
    expect(c.command).toEqual(['/bin/bash', '/etc/dispatch/cassandra/roles.sh']);
    const volume = (job.pod.volumes ?? []).find((v) => v.name === 'script') as unknown as {
      configMap: { name: string };
    };
    const script = findObject(objects, 'ConfigMap', volume.configMap.name)!;
    expect((script.data as Record<string, string>)['roles.sh']).toBe(
      readFileSync(path.join(K8S_DIR, 'base/cassandra/roles.sh'), 'utf8'),
    );
  });

  test('no rendered object or template carries a token secret or private key material', () => {
    const texts = [
      ...objects.map((o) => JSON.stringify(o)),
      ...[
        SECRETS_TEMPLATE,
        INFRA_TEMPLATE,
        JWKS_TEMPLATE,
        PG_ROLES_TEMPLATE,
        CASSANDRA_ROLES_TEMPLATE,
        KAFKA_TEMPLATE,
        KAFKA_CONTROLLER_TEMPLATE,
      ].map((f) => readFileSync(path.join(K8S_DIR, f), 'utf8')),
    ];
    for (const text of texts) {
      expect(text).not.toMatch(/AUTH_JWT_SECRET|PRIVATE KEY|"d"\s*:|token-signing-keys/);
    }
  });

  test('every pod is non-root, unprivileged, RuntimeDefault seccomp; services and jobs read-only', () => {
    const problems = workloads(objects).flatMap((w) =>
      securityProblems(w, { readOnlyRoot: w.kind === 'Deployment' || w.kind === 'Job' }),
    );
    expect(problems).toEqual([]);
  });

  test('every workload reads only Secrets and ConfigMaps that exist, with the keys it names', () => {
    const sources = valueSources(objects, overlay.external);
    const problems = workloads(objects).flatMap((w) =>
      w.pod.containers.flatMap((c) => resolveEnv(c, sources).problems.map((p) => `${w.name}: ${p}`)),
    );
    expect(problems).toEqual([]);
  });

  test('each Service selects its pods and targets a port they declare', () => {
    const pods = workloads(objects);
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const spec = service.spec as {
        selector: Record<string, string>;
        ports: { targetPort: string | number }[];
      };
      const backing = pods.filter((w) => selects(spec.selector, w.labels));
      expect(`${service.metadata.name}: ${backing.length}`).toBe(`${service.metadata.name}: 1`);
      for (const port of spec.ports) {
        expect(
          `${service.metadata.name} → ${port.targetPort}: ${resolvePort(backing[0]!.pod.containers[0]!, port.targetPort) !== undefined}`,
        ).toBe(`${service.metadata.name} → ${port.targetPort}: true`);
      }
    }
  });

  test('autoscalers and disruption budgets cover every service deployment', () => {
    for (const s of SERVICE_CONFIGS) {
      const hpa = findObject(objects, 'HorizontalPodAutoscaler', s.name)!;
      expect((hpa.spec as { scaleTargetRef: unknown }).scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: s.name,
      });
      const pdb = findObject(objects, 'PodDisruptionBudget', s.name)!;
      const podLabels = workloads(objects).find((w) => w.kind === 'Deployment' && w.name === s.name)!.labels;
      expect(
        selects(
          (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
          podLabels,
        ),
      ).toBe(true);
    }
  });

  test('HTTPRoutes: order writes to order-service, order reads to query-api, admin APIs to their owners', () => {
    const routes = objects.filter((o) => o.kind === 'HTTPRoute');
    expect(routes.map((r) => r.metadata.name).sort()).toEqual(['dispatch-api', 'dispatch-query']);
    expect(routes.flatMap(routeTable).sort()).toEqual([...PUBLIC_ROUTES].sort());
    for (const route of routes) {
      // The structural check stands in for a schema (none vendored for Gateway API).
      expect(validator.validate(route)).toEqual([]);
      expect(httpRouteReferenceProblems(route, objects)).toEqual([]);
      const spec = route.spec as { hostnames: string[] };
      expect(spec.hostnames).toEqual([`${route.metadata.name.replace('dispatch-', '')}.${overlay.domain}`]);
    }
    // The SSE stream outlives an implementation's default request timeout.
    const query = findObject(routes, 'HTTPRoute', 'dispatch-query')!;
    expect((query.spec as { rules: { timeouts?: unknown }[] }).rules[0]!.timeouts).toEqual({ request: '1h' });
    // No Ingress any more (k8s/examples/ingress.yaml is for clusters without Gateway API).
    expect(objects.filter((o) => o.kind === 'Ingress')).toEqual([]);
  });

  test("HTTPRoutes attach to the overlay's Gateway (gateway.yaml), which is never applied itself", () => {
    const gateway = gatewayConfig(overlay.dir);
    for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
      expect((route.spec as { parentRefs: unknown }).parentRefs).toEqual([
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: gateway.name,
          namespace: gateway.namespace,
        },
      ]);
    }
    expect(findObject(objects, 'ConfigMap', 'dispatch-gateway')).toBeUndefined();
  });

  test('the topics Job creates the local stack topics, raw.* with unlimited retention', () => {
    const job = workloads(objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-topics')!;
    const script = (job.pod.containers[0] as Container & { args: string[] }).args.join('\n');
    for (const topic of stackTopics(6)) expect(script).toContain(topic.name.split('.')[1]);
    expect(script).toContain('--config retention.ms=-1');
    const env = resolveEnv(job.pod.containers[0]!, valueSources(objects, overlay.external)).env;
    expect(env.PARTITIONS).toBe('6');
    expect(Number(env.REPLICATION_FACTOR)).toBe(overlay.name === 'dev' ? 1 : 3);
    // As the admin, over TLS when dispatch-infra says so.
    expect([env.KAFKA_ADMIN_USERNAME, env.KAFKA_ADMIN_PASSWORD]).toEqual([
      KAFKA_ADMIN,
      'k8s-check-dispatch-kafka-admin',
    ]);
    expect(script).toContain('--command-config "$admin"');
    expect(script).toContain('protocol=SASL_SSL');
    expect(script).not.toMatch(/kafka-topics\.sh(?![^\n]*--command-config)/);
  });
});

describe('k8s/dev adds the servers', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderKustomization(path.join(K8S_DIR, 'overlays/dev'));
  });

  test('single-node Kafka, Cassandra, PostgreSQL and Redis StatefulSets, each with a volume claim', () => {
    const sets = objects.filter((o) => o.kind === 'StatefulSet');
    expect(sets.map((s) => s.metadata.name).sort()).toEqual(['cassandra', 'kafka', 'postgres', 'redis']);
    for (const set of sets) {
      const spec = set.spec as { replicas: number; volumeClaimTemplates?: unknown[]; serviceName: string };
      expect(spec.replicas).toBe(1);
      expect(spec.volumeClaimTemplates?.length).toBe(1);
      expect(findObject(objects, 'Service', spec.serviceName)).toBeDefined();
    }
  });

  test('the broker refuses anonymous clients: every listener SASL, ACLs decide, as the local stack and compose', () => {
    const kafka = workloads(objects).find((w) => w.kind === 'StatefulSet' && w.name === 'kafka')!;
    const c = kafka.pod.containers[0] as Container & { command: string[] };
    expect(c.command).toEqual(['/bin/bash', '/etc/dispatch/kafka/broker.sh']);
    const { env, problems } = resolveEnv(c, valueSources(objects, OVERLAYS[0]!.external));
    expect(problems).toEqual([]);
    expect(env).toMatchObject({
      KAFKA_CONFIG: '/etc/dispatch/kafka/server.properties',
      KAFKA_ADMIN_PASSWORD: 'k8s-check-dispatch-kafka-admin',
      KAFKA_CONTROLLER_PASSWORD: 'k8s-check-dispatch-kafka-controller',
    });
    const volume = (kafka.pod.volumes ?? []).find((v) => v.name === 'config') as unknown as {
      configMap: { name: string };
    };
    const files = findObject(objects, 'ConfigMap', volume.configMap.name)!.data as Record<string, string>;
    // compose runs the same start script.
    expect(files['broker.sh']).toBe(readFileSync(path.join(K8S_DIR, 'overlays/dev/kafka/broker.sh'), 'utf8'));
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toContain('file: ./k8s/overlays/dev/kafka/broker.sh');
    const properties = parseProperties(files['server.properties']!);
    expect(brokerAuthProblems(properties)).toEqual([]);
    const local = parseProperties(
      readFileSync(repoPath('infra', 'local', 'kafka', 'server.properties'), 'utf8'),
    );
    expect(sharedAuthSettings(properties)).toEqual(sharedAuthSettings(local));
    // Clients reach the listener the Service exposes; the controller listens on the pod's loopback only.
    expect(properties['advertised.listeners']).toBe('CLIENT://kafka:9092');
    expect(properties.listeners).toContain('CONTROLLER://localhost:9093');
    // The rendered config (with the passwords) goes to memory, not to the volume.
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect((kafka.pod.volumes ?? []).find((v) => v.name === 'tmp')).toEqual({
      name: 'tmp',
      emptyDir: { medium: 'Memory', sizeLimit: '64Mi' },
    });
  });

  test('dispatch-infra points at those servers, on ports their Services expose', () => {
    const infra = valueSources(objects).secrets;
    const values = [...infra.entries()].find(([name]) => name.startsWith('dispatch-infra'))![1];
    const addresses = [
      ...values.KAFKA_BROKERS!.split(','),
      ...values.CASSANDRA_CONTACT_POINTS!.split(','),
      `${values.PGHOST}:${values.PGPORT}`,
      new URL(values.REDIS_URL!).host,
    ];
    for (const address of addresses) {
      const [host, port] = address.split(':');
      const service = findObject(objects, 'Service', host!);
      const ports = (service?.spec as { ports: { port: number }[] } | undefined)?.ports ?? [];
      expect(`${address}: ${ports.some((p) => p.port === Number(port))}`).toBe(`${address}: true`);
    }
  });
});

describe('k8s/prod', () => {
  test('runs no servers of its own and renders no Secret: both come from the operator', () => {
    const objects = renderKustomization(path.join(K8S_DIR, 'overlays/prod'));
    expect(objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Secret')).toEqual([]);
  });
});

describe('k8s/components/monitoring (on top of prod)', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dispatch-monitoring-'));
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      // kustomize accepts only relative paths to other kustomizations.
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${path.relative(dir, path.join(K8S_DIR, 'overlays/prod'))}\ncomponents:\n  - ${path.relative(dir, path.join(K8S_DIR, 'components/monitoring'))}\n`,
    );
    try {
      objects = renderKustomization(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ServiceMonitor and PrometheusRule are valid and scrape /metrics on every service', () => {
    const monitor = findObject(objects, 'ServiceMonitor', 'dispatch')!;
    expect(validator.validate(monitor)).toEqual([]);
    const rule = findObject(objects, 'PrometheusRule', 'dispatch')!;
    expect(validator.validate(rule)).toEqual([]);
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string }[];
    };
    expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    const scraped = objects
      .filter((o) => o.kind === 'Service' && selects(spec.selector.matchLabels, o.metadata.labels ?? {}))
      .map((o) => o.metadata.name)
      .sort();
    expect(scraped).toEqual(SERVICE_CONFIGS.map((s) => s.name).sort());
  });
});

describe('k8s/components/gateway (another Gateway, proxies elsewhere)', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dispatch-gateway-'));
    const relative = (to: string) => path.relative(dir, path.join(K8S_DIR, to));
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dispatch-gateway\n  annotations:\n    config.kubernetes.io/local-config: "true"\n' +
        'data:\n  name: public\n  namespace: infra-gateways\n  proxyNamespace: envoy-gateway-system\n',
    );
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: dispatch\nresources:\n  - ${relative('base')}\n  - gateway.yaml\n` +
        `components:\n  - ${relative('components/network-policy')}\n  - ${relative('components/gateway')}\n`,
    );
    try {
      objects = renderKustomization(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every HTTPRoute's parentRef and every API policy's source follow the ConfigMap", () => {
    for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
      expect((route.spec as { parentRefs: unknown }).parentRefs).toEqual([
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra-gateways' },
      ]);
    }
    for (const s of SERVICE_CONFIGS) {
      const policy = findObject(objects, 'NetworkPolicy', s.name)!;
      const from = (policy.spec as { ingress: { from: { namespaceSelector: { matchLabels: unknown } }[] }[] })
        .ingress[0]!.from;
      expect(from.map((f) => f.namespaceSelector.matchLabels)).toEqual([
        { 'kubernetes.io/metadata.name': 'envoy-gateway-system' },
        { 'kubernetes.io/metadata.name': 'monitoring' },
      ]);
    }
    // Only the six API policies carry the label the replacement selects.
    expect(
      objects
        .filter(
          (o) => o.kind === 'NetworkPolicy' && o.metadata.labels?.['app.kubernetes.io/component'] === 'api',
        )
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(SERVICE_CONFIGS.map((s) => s.name).sort());
    expect(findObject(objects, 'ConfigMap', 'dispatch-gateway')).toBeUndefined();
  });
});

describe('the HTTPRoute checks (no Gateway API schema is vendored)', () => {
  let objects: KubeObject[];
  let route: KubeObject;
  beforeAll(() => {
    objects = renderKustomization(path.join(K8S_DIR, 'overlays/dev'));
    route = findObject(objects, 'HTTPRoute', 'dispatch-api')!;
  });

  test('HTTPRoute is checked structurally, not refused for want of a schema', () => {
    expect(validator.structuralTypes()).toEqual(['gateway.networking.k8s.io/v1 HTTPRoute']);
  });

  test('the shape check catches unknown fields, bad enums, hostnames, durations and a missing port', () => {
    const broken = structuredClone(route) as KubeObject & { spec: Record<string, unknown> };
    broken.spec.parentRef = broken.spec.parentRefs;
    broken.spec.hostnames = ['API.example.com:443'];
    broken.spec.rules = [
      { matches: [{ path: { type: 'Prefix', value: 'api' } }], backendRefs: [{ name: 'order-service' }] },
      { matches: [{ method: 'FETCH' }], backendRef: [], timeouts: { request: '1 hour' } },
    ];
    expect(httpRouteShapeProblems(broken)).toEqual([
      '/spec: unknown field "parentRef"',
      '/spec/hostnames/0: "API.example.com:443" is no hostname',
      '/spec/rules/0/matches/0/path/type: one of Exact, PathPrefix, RegularExpression',
      '/spec/rules/0/matches/0/path/value: must start with /',
      '/spec/rules/0/backendRefs/0/port: required for a Service',
      '/spec/rules/1: unknown field "backendRef"',
      '/spec/rules/1/matches/0/method: one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH',
      '/spec/rules/1/timeouts/request: a Gateway API duration (e.g. 30s, 1h)',
    ]);
    delete broken.spec.parentRefs;
    expect(httpRouteShapeProblems(broken)).toContain('/spec/parentRefs: required');
  });

  test('the reference check catches a missing Service, a wrong port, and /metrics or /health routed', () => {
    const broken = structuredClone(route) as KubeObject & { spec: { rules: unknown[] } };
    broken.spec.rules = [
      { matches: [{ path: { value: '/api/orders' } }], backendRefs: [{ name: 'orders', port: 8081 }] },
      {
        matches: [{ path: { value: '/api/payments' } }],
        backendRefs: [{ name: 'payment-service', port: 80 }],
      },
      {
        matches: [{ path: { type: 'Exact', value: '/metrics' } }],
        backendRefs: [{ name: 'query-api', port: 8080 }],
      },
      { backendRefs: [{ name: 'query-api', port: 8080 }] },
    ];
    expect(httpRouteReferenceProblems(broken, objects)).toEqual([
      '/spec/rules/0: backend Service orders does not exist',
      '/spec/rules/1: Service payment-service has no port 80 (it has 8082)',
      '/spec/rules/2: routes /metrics publicly (Exact /metrics)',
      '/spec/rules/3: routes /metrics publicly (PathPrefix /)',
      '/spec/rules/3: routes /health publicly (PathPrefix /)',
      '/spec/rules/3: routes /health/live publicly (PathPrefix /)',
      '/spec/rules/3: routes /health/ready publicly (PathPrefix /)',
    ]);
  });

  test.each([
    [{ path: { type: 'PathPrefix' as const, value: '/api/orders' } }, '/api/orders/1/events', true],
    [{ path: { type: 'PathPrefix' as const, value: '/api/orders' } }, '/api/ordersx', false],
    [{ path: { type: 'PathPrefix' as const, value: '/health/' } }, '/health', true],
    [{ path: { type: 'Exact' as const, value: '/health' } }, '/health/live', false],
    [{ path: { type: 'RegularExpression' as const, value: '/(metrics|health.*)' } }, '/health/ready', true],
    [{}, '/metrics', true],
  ])('match %j on %s: %s', (match, requestPath, expected) => {
    expect(matchesPath(match, requestPath)).toBe(expected);
  });
});

describe('k8s/examples/ingress.yaml (clusters without Gateway API; in no overlay)', () => {
  const file = path.join(K8S_DIR, 'examples', 'ingress.yaml');
  let ingresses: KubeObject[];
  let objects: KubeObject[];
  beforeAll(() => {
    ingresses = parseManifests(readFileSync(file, 'utf8'));
    objects = renderKustomization(path.join(K8S_DIR, 'overlays/dev'));
  });

  test('valid Ingresses in the dispatch namespace, no controller-specific class or annotation', () => {
    expect(ingresses.map((i) => `${i.kind} ${i.metadata.name}`)).toEqual([
      'Ingress dispatch-api',
      'Ingress dispatch-query',
    ]);
    for (const ingress of ingresses) {
      expect(validator.validate(ingress)).toEqual([]);
      expect(ingress.metadata.namespace).toBe('dispatch');
      expect(ingress.metadata.annotations).toBeUndefined();
      expect((ingress.spec as { ingressClassName?: string }).ingressClassName).toBeUndefined();
    }
  });

  test('the same routes as the HTTPRoutes, to Services and ports that exist', () => {
    const routes: string[] = [];
    for (const ingress of ingresses) {
      const rules = (
        ingress.spec as {
          rules: {
            host: string;
            http: {
              paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[];
            };
          }[];
        }
      ).rules;
      for (const rule of rules) {
        for (const p of rule.http.paths) {
          const service = findObject(objects, 'Service', p.backend.service.name);
          const port = (service?.spec as { ports: { name: string; port: number }[] } | undefined)?.ports.find(
            (x) => x.name === p.backend.service.port.name,
          );
          expect(
            `${p.backend.service.name}:${p.backend.service.port.name} exists: ${port !== undefined}`,
          ).toBe(`${p.backend.service.name}:${p.backend.service.port.name} exists: true`);
          routes.push(`${rule.host.split('.')[0]} * ${p.path} → ${p.backend.service.name}:${port?.port}`);
        }
      }
    }
    expect(routes.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  test('no overlay includes it', () => {
    for (const dir of ['base', 'overlays/dev', 'overlays/prod']) {
      expect(readFileSync(path.join(K8S_DIR, dir, 'kustomization.yaml'), 'utf8')).not.toMatch(
        /ingress|examples/,
      );
    }
  });
});
