import type { KubeObject } from '../deploy-check/src/kubernetes-schemas';
import { renderKustomization } from '../deploy-check/src/kustomize';
import { K8S_DIR } from '../deploy-check/src/paths';
import {
  countByKind,
  ManifestError,
  type PlayOptions,
  patchDeployment,
  planPlay,
  podmanSecretData,
  qualifyImage,
  withoutHashSuffix,
} from './manifests';

const probe = (path: string) => ({ httpGet: { path, port: 'http' }, periodSeconds: 5 });

function deployment(name: string, port: number, overrides: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'dispatch' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: `dispatch/${name}:dev`,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: port }],
              envFrom: [{ configMapRef: { name: `${name}-config-4m7kmkdh4h` } }],
              env: [
                { name: 'PORT', value: String(port) },
                {
                  name: 'KAFKA_BROKERS',
                  valueFrom: { secretKeyRef: { name: 'dispatch-infra-5c5mf2d465', key: 'KAFKA_BROKERS' } },
                },
                {
                  name: 'KAFKA_TLS',
                  valueFrom: {
                    secretKeyRef: { name: 'dispatch-infra-5c5mf2d465', key: 'KAFKA_TLS', optional: true },
                  },
                },
                {
                  name: 'KAFKA_SASL_PASSWORD',
                  valueFrom: { secretKeyRef: { name: `${name}-kafka`, key: 'KAFKA_SASL_PASSWORD' } },
                },
              ],
              startupProbe: probe('/health/live'),
              livenessProbe: probe('/health/live'),
              readinessProbe: probe('/health/ready'),
              ...overrides,
            },
          ],
          volumes: [{ name: 'token-jwks', configMap: { name: 'dispatch-token-jwks', optional: true } }],
        },
      },
    },
  };
}

const rendered: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dispatch' } },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'order-service-config-4m7kmkdh4h' },
    data: { LOG_LEVEL: 'info' },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'dispatch-postgres-sql-c6d9kcdmhf' },
    data: { 'x.sql': '' },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'dispatch-infra-5c5mf2d465' },
    data: { KAFKA_BROKERS: Buffer.from('kafka:9092').toString('base64') },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'order-service' } },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'kafka' } },
  { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'dispatch-topics' } },
  { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
  deployment('order-service', 8081),
];

const options: PlayOptions = {
  portOffset: 20000,
  registry: 'localhost',
  secrets: {
    'dispatch-infra': { KAFKA_BROKERS: '127.0.0.1:9092' },
    'order-service-kafka': { KAFKA_SASL_USERNAME: 'order-service', KAFKA_SASL_PASSWORD: 'pw' },
  },
  configMaps: { 'dispatch-token-jwks': { 'jwks.json': '{"keys":[]}' } },
};

const decoded = (secret: KubeObject | undefined, key: string) =>
  Buffer.from(((secret?.data ?? {}) as Record<string, string>)[key]!, 'base64').toString('utf8');

describe('patchDeployment', () => {
  test('host network, PORT moved by the offset, local image never pulled, no ports or probes left for podman', () => {
    const { deployment: patched, targets } = patchDeployment(deployment('order-service', 8081), options);
    const pod = (patched.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const container = (pod.containers as Record<string, unknown>[])[0]!;
    expect(pod.hostNetwork).toBe(true);
    expect(container.image).toBe('localhost/dispatch/order-service:dev');
    expect(container.imagePullPolicy).toBe('Never');
    expect((container.env as { name: string; value?: string }[]).find((v) => v.name === 'PORT')?.value).toBe(
      '28081',
    );
    for (const field of ['ports', 'startupProbe', 'livenessProbe', 'readinessProbe'])
      expect(container[field]).toBeUndefined();
    expect(targets).toEqual([
      {
        deployment: 'order-service',
        container: 'order-service',
        port: 28081,
        readinessPath: '/health/ready',
        startupPath: '/health/live',
        livenessPath: '/health/live',
      },
    ]);
  });

  test('leaves the original alone', () => {
    const original = deployment('order-service', 8081);
    const copy = structuredClone(original);
    patchDeployment(original, options);
    expect(original).toEqual(copy);
  });

  test('refuses a PORT its probes do not ask, a probe on another port, and no readiness probe', () => {
    const wrongPort = deployment('order-service', 8081, { env: [{ name: 'PORT', value: '8080' }] });
    expect(() => patchDeployment(wrongPort, options)).toThrow('PORT is 8080, but its probes ask port 8081');
    const noPort = deployment('order-service', 8081, { env: [] });
    expect(() => patchDeployment(noPort, options)).toThrow('PORT is unset');
    const otherLiveness = deployment('order-service', 8081, {
      livenessProbe: { httpGet: { path: '/health/live', port: 9000 } },
    });
    expect(() => patchDeployment(otherLiveness, options)).toThrow('livenessProbe asks port 9000');
    const unnamed = deployment('order-service', 8081, {
      readinessProbe: { httpGet: { path: '/health/ready', port: 'web' } },
    });
    expect(() => patchDeployment(unnamed, options)).toThrow('names no container port');
    const none = deployment('order-service', 8081, { readinessProbe: undefined });
    expect(() => patchDeployment(none, options)).toThrow(ManifestError);
  });
});

describe('planPlay', () => {
  test('plays the Deployments and what they read; the rendered dispatch-infra gets the stack values under its hashed name', () => {
    const plan = planPlay(rendered, options);
    expect(countByKind(plan.secrets)).toBe('2 Secret');
    expect(plan.played.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
      'ConfigMap order-service-config-4m7kmkdh4h',
      'ConfigMap dispatch-token-jwks',
      'Deployment order-service',
    ]);
    const infra = plan.secrets.find((s) => s.metadata.name === 'dispatch-infra-5c5mf2d465');
    expect(decoded(infra, 'KAFKA_BROKERS')).toBe('127.0.0.1:9092');
    expect(
      decoded(
        plan.secrets.find((s) => s.metadata.name === 'order-service-kafka'),
        'KAFKA_SASL_PASSWORD',
      ),
    ).toBe('pw');
  });

  test('says why each object is left out', () => {
    const reasons = Object.fromEntries(
      planPlay(rendered, options).leftOut.map((o) => [`${o.kind} ${o.name}`, o.reason]),
    );
    expect(Object.keys(reasons).sort()).toEqual(
      [
        'ConfigMap dispatch-postgres-sql-c6d9kcdmhf',
        'Job dispatch-topics',
        'Namespace dispatch',
        'Service order-service',
        'StatefulSet kafka',
        'Widget w',
      ].sort(),
    );
    expect(reasons['ConfigMap dispatch-postgres-sql-c6d9kcdmhf']).toMatch(/read by nothing played/);
    expect(reasons['StatefulSet kafka']).toMatch(/local stack/);
    expect(reasons['Widget w']).toMatch(/does not play this kind/);
  });

  test('a required Secret nobody provides, or a key it lacks, is an error; an optional key may be missing', () => {
    const { 'order-service-kafka': _, ...withoutKafka } = options.secrets;
    expect(() => planPlay(rendered, { ...options, secrets: withoutKafka })).toThrow(
      'Secret order-service-kafka',
    );
    const withoutPassword = {
      ...options.secrets,
      'order-service-kafka': { KAFKA_SASL_USERNAME: 'order-service' },
    };
    expect(() => planPlay(rendered, { ...options, secrets: withoutPassword })).toThrow(
      'KAFKA_SASL_PASSWORD: Secret order-service-kafka has no key KAFKA_SASL_PASSWORD',
    );
  });

  test('an optional ConfigMap may be missing; a required one may not', () => {
    expect(
      planPlay(rendered, { ...options, configMaps: {} }).played.map((o) => o.metadata.name),
    ).not.toContain('dispatch-token-jwks');
    const withoutConfig = rendered.filter((o) => o.metadata.name !== 'order-service-config-4m7kmkdh4h');
    expect(() => planPlay(withoutConfig, options)).toThrow('ConfigMap order-service-config-4m7kmkdh4h');
  });
});

describe('helpers', () => {
  test('withoutHashSuffix drops only a generator hash', () => {
    expect(withoutHashSuffix('dispatch-infra-5c5mf2d465')).toBe('dispatch-infra');
    expect(withoutHashSuffix('order-service-kafka')).toBe('order-service-kafka');
  });

  test('qualifyImage adds the registry only where there is none', () => {
    expect(qualifyImage('dispatch/query-api:dev', 'localhost')).toBe('localhost/dispatch/query-api:dev');
    expect(qualifyImage('localhost/dispatch/query-api:dev', 'localhost')).toBe(
      'localhost/dispatch/query-api:dev',
    );
    expect(qualifyImage('registry.example.com/dispatch/query-api:1', 'localhost')).toBe(
      'registry.example.com/dispatch/query-api:1',
    );
    expect(qualifyImage('postgres:15', 'localhost')).toBe('localhost/postgres:15');
  });

  test("podmanSecretData is the Secret's data, stringData encoded alike", () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { A: 'YQ==' },
      stringData: { B: 'b' },
    };
    expect(JSON.parse(podmanSecretData(secret))).toEqual({ A: 'YQ==', B: 'Yg==' });
  });
});

describe('k8s/overlays/dev', () => {
  const devSecrets: Record<string, Record<string, string>> = {
    'dispatch-infra': {
      KAFKA_BROKERS: '127.0.0.1:9092',
      PGHOST: '127.0.0.1',
      PGPORT: '5432',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042',
      CASSANDRA_LOCAL_DC: 'datacenter1',
    },
    'query-api-cassandra': { CASSANDRA_USERNAME: 'query_api', CASSANDRA_PASSWORD: 'pw' },
  };
  for (const service of [
    'query-api',
    'order-service',
    'payment-service',
    'inventory-service',
    'delivery-service',
    'webhook-service',
  ]) {
    devSecrets[`${service}-kafka`] = { KAFKA_SASL_USERNAME: service, KAFKA_SASL_PASSWORD: 'pw' };
    if (service !== 'query-api')
      devSecrets[`${service}-postgres`] = { PGUSER: service.replace('-', '_'), PGPASSWORD: 'pw' };
  }

  test('six services on 28080-28085, their own logins only, no server, Job or admin login played', () => {
    const plan = planPlay(renderKustomization(`${K8S_DIR}/overlays/dev`), {
      ...options,
      secrets: devSecrets,
    });
    expect(plan.targets.map((t) => `${t.deployment}:${t.port}`).sort()).toEqual([
      'delivery-service:28084',
      'inventory-service:28083',
      'order-service:28081',
      'payment-service:28082',
      'query-api:28080',
      'webhook-service:28085',
    ]);
    expect(plan.secrets.map((s) => withoutHashSuffix(s.metadata.name)).sort()).toEqual(
      Object.keys(devSecrets).sort(),
    );
    expect(new Set(plan.played.map((o) => o.kind))).toEqual(new Set(['ConfigMap', 'Deployment']));
    expect(new Set(plan.leftOut.map((o) => o.kind))).toEqual(
      new Set([
        'Namespace',
        'ServiceAccount',
        'ConfigMap',
        'Service',
        'StatefulSet',
        'PodDisruptionBudget',
        'HorizontalPodAutoscaler',
        'Job',
        'HTTPRoute',
        'NetworkPolicy',
      ]),
    );
  });
});
