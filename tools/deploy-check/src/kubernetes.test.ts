import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KAFKA_ADMIN } from '../../stack/kafka-acls';
import { stackTopics } from '../../stack/topics';
import { httpRouteReferenceProblems, routeTable } from './gateway-api';
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
  CASSANDRA_ROLES_TEMPLATE,
  gatewayConfig,
  INFRA_TEMPLATE,
  JWKS_TEMPLATE,
  KAFKA_CONTROLLER_TEMPLATE,
  KAFKA_TEMPLATE,
  OVERLAYS,
  PG_ROLES,
  PG_ROLES_TEMPLATE,
  PUBLIC_ROUTES,
  SECRETS_TEMPLATE,
  useRenderedOverlay,
  validator,
} from './kubernetes.fixtures';
import { K8S_DIR } from './paths';
import { configProblems, SERVICE_CONFIGS } from './service-configs';

describe.each(OVERLAYS)('k8s/$name', (overlay) => {
  const k8s = useRenderedOverlay(overlay);

  test('every rendered object is valid against the Kubernetes 1.34 schemas, unknown fields included', () => {
    const problems = k8s.objects.flatMap((o) =>
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
    const policies = k8s.objects.filter((o) => o.kind === 'NetworkPolicy');
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
    const elsewhere = k8s.objects.filter(
      (o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'dispatch',
    );
    expect(elsewhere.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
  });

  test.each(SERVICE_CONFIGS)('$name: listens on $port, probes /health/live and /health/ready there', (s) => {
    const c = k8s.container(s.name);
    const env = resolveEnv(c, valueSources(k8s.objects, overlay.external)).env;
    expect(env.PORT).toBe(String(s.port));
    expect(resolvePort(c, 'http')).toBe(s.port);
    expect(probeProblems(c, s.port)).toEqual([]);
  });

  test.each(SERVICE_CONFIGS)(
    '$name: sets only variables of its config schema, and would start with them',
    (s) => {
      const { env, problems } = resolveEnv(
        k8s.container(s.name),
        valueSources(k8s.objects, overlay.external),
      );
      expect(problems).toEqual([]);
      expect(configProblems(s.schema, env)).toEqual([]);
    },
  );

  test.each(SERVICE_CONFIGS)(
    '$name: verifies tokens with the public JWKS only, mounted read-only; no token secret or signing key',
    (s) => {
      const c = k8s.container(s.name);
      const { env } = resolveEnv(c, valueSources(k8s.objects, overlay.external));
      expect(env).toMatchObject({
        AUTH_JWKS_FILE: '/etc/dispatch/auth/jwks.json',
        AUTH_JWT_ISSUER: 'dispatch',
        AUTH_JWT_AUDIENCE: 'dispatch-api',
        AUTH_MAX_TOKEN_LIFETIME: '24h',
      });
      expect(env).not.toHaveProperty('AUTH_JWT_SECRET');
      const mount = (c.volumeMounts ?? []).find((m) => m.name === 'token-jwks');
      expect(mount).toEqual({ name: 'token-jwks', mountPath: '/etc/dispatch/auth', readOnly: true });
      const pod = (
        k8s.deployment(s.name)!.spec as { template: { spec: { volumes: Record<string, unknown>[] } } }
      ).template.spec;
      expect(pod.volumes.find((v) => v.name === 'token-jwks')).toEqual({
        name: 'token-jwks',
        configMap: { name: 'dispatch-token-jwks', optional: true },
      });
    },
  );

  test.each(PG_ROLES)(
    '$service: logs in to PostgreSQL as its own role $role, from its own Secret, never the admin',
    ({ service, secret, role }) => {
      const c = k8s.container(service);
      const refs = Object.fromEntries(
        (c.env ?? []).filter((v) => v.name.startsWith('PG')).map((v) => [v.name, v.valueFrom?.secretKeyRef]),
      );
      expect(refs.PGUSER).toEqual({ name: secret, key: 'PGUSER' });
      expect(refs.PGPASSWORD).toEqual({ name: secret, key: 'PGPASSWORD' });
      const { env } = resolveEnv(c, valueSources(k8s.objects, overlay.external));
      expect(env.PGUSER).toBe(role);
      expect(env.PGPASSWORD).toBe(`k8s-check-${secret}`);
    },
  );

  test('no rendered object or template carries a token secret or private key material', () => {
    const texts = [
      ...k8s.objects.map((o) => JSON.stringify(o)),
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
    const problems = workloads(k8s.objects).flatMap((w) =>
      securityProblems(w, { readOnlyRoot: w.kind === 'Deployment' || w.kind === 'Job' }),
    );
    expect(problems).toEqual([]);
  });

  test('every workload reads only Secrets and ConfigMaps that exist, with the keys it names', () => {
    const sources = valueSources(k8s.objects, overlay.external);
    const problems = workloads(k8s.objects).flatMap((w) =>
      w.pod.containers.flatMap((c) => resolveEnv(c, sources).problems.map((p) => `${w.name}: ${p}`)),
    );
    expect(problems).toEqual([]);
  });

  test('each Service selects its pods and targets a port they declare', () => {
    const pods = workloads(k8s.objects);
    for (const service of k8s.objects.filter((o) => o.kind === 'Service')) {
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
      const hpa = findObject(k8s.objects, 'HorizontalPodAutoscaler', s.name)!;
      expect((hpa.spec as { scaleTargetRef: unknown }).scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: s.name,
      });
      const pdb = findObject(k8s.objects, 'PodDisruptionBudget', s.name)!;
      const podLabels = workloads(k8s.objects).find(
        (w) => w.kind === 'Deployment' && w.name === s.name,
      )!.labels;
      expect(
        selects(
          (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
          podLabels,
        ),
      ).toBe(true);
    }
  });

  test('HTTPRoutes: order writes to order-service, order reads to query-api, admin APIs to their owners', () => {
    const routes = k8s.objects.filter((o) => o.kind === 'HTTPRoute');
    expect(routes.map((r) => r.metadata.name).sort()).toEqual(['dispatch-api', 'dispatch-query']);
    expect(routes.flatMap(routeTable).sort()).toEqual([...PUBLIC_ROUTES].sort());
    for (const route of routes) {
      // The structural check stands in for a schema (none vendored for Gateway API).
      expect(validator.validate(route)).toEqual([]);
      expect(httpRouteReferenceProblems(route, k8s.objects)).toEqual([]);
      const spec = route.spec as { hostnames: string[] };
      expect(spec.hostnames).toEqual([`${route.metadata.name.replace('dispatch-', '')}.${overlay.domain}`]);
    }
    // The SSE stream outlives an implementation's default request timeout.
    const query = findObject(routes, 'HTTPRoute', 'dispatch-query')!;
    expect((query.spec as { rules: { timeouts?: unknown }[] }).rules[0]!.timeouts).toEqual({ request: '1h' });
    // No Ingress any more (k8s/examples/ingress.yaml is for clusters without Gateway API).
    expect(k8s.objects.filter((o) => o.kind === 'Ingress')).toEqual([]);
  });

  test("HTTPRoutes attach to the overlay's Gateway (gateway.yaml), which is never applied itself", () => {
    const gateway = gatewayConfig(overlay.dir);
    for (const route of k8s.objects.filter((o) => o.kind === 'HTTPRoute')) {
      expect((route.spec as { parentRefs: unknown }).parentRefs).toEqual([
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: gateway.name,
          namespace: gateway.namespace,
        },
      ]);
    }
    expect(findObject(k8s.objects, 'ConfigMap', 'dispatch-gateway')).toBeUndefined();
  });

  test('the topics Job creates the local stack topics, raw.* with unlimited retention', () => {
    const job = workloads(k8s.objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-topics')!;
    const script = (job.pod.containers[0] as Container & { args: string[] }).args.join('\n');
    for (const topic of stackTopics(6)) expect(script).toContain(topic.name.split('.')[1]);
    expect(script).toContain('--config retention.ms=-1');
    const env = resolveEnv(job.pod.containers[0]!, valueSources(k8s.objects, overlay.external)).env;
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
