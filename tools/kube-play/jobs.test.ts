import type { KubeObject } from '../deploy-check/src/kubernetes-schemas';
import { renderKustomization } from '../deploy-check/src/kustomize';
import { K8S_DIR } from '../deploy-check/src/paths';
import { jobPod } from './jobs';
import { planPlay, withoutHashSuffix } from './manifests';

const job: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'dispatch-topics' },
  spec: {
    backoffLimit: 20,
    template: {
      metadata: { labels: { app: 'dispatch-topics' } },
      spec: {
        restartPolicy: 'OnFailure',
        containers: [
          { name: 'create-topics', image: 'apache/kafka:4.3.1', command: ['/bin/bash', '-ec', 'true'] },
        ],
      },
    },
  },
};

const images = {
  'apache/kafka:4.3.1': 'localhost/dispatch/kafka:4.3.1',
  'postgres:15': 'localhost/dispatch/postgres:15',
  'cassandra:5.0': 'localhost/dispatch/cassandra:5.0.9',
};

describe('jobPod', () => {
  test("the Job's pod template as a Pod: host network, run once, the local image", () => {
    const { pod, target } = jobPod(job, images);
    expect(pod).toMatchObject({
      kind: 'Pod',
      metadata: { name: 'dispatch-topics', labels: { app: 'dispatch-topics' } },
    });
    const spec = pod.spec as {
      hostNetwork: boolean;
      restartPolicy: string;
      containers: { image: string; imagePullPolicy: string }[];
    };
    expect(spec.hostNetwork).toBe(true);
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.containers[0]).toMatchObject({
      image: 'localhost/dispatch/kafka:4.3.1',
      imagePullPolicy: 'Never',
    });
    expect(target).toEqual({
      job: 'dispatch-topics',
      pod: 'dispatch-topics',
      containers: ['dispatch-topics-create-topics'],
    });
  });

  test('an image without a local stand-in is an error', () => {
    expect(() => jobPod(job, {})).toThrow('no local image for apache/kafka:4.3.1');
  });
});

test('k8s/overlays/dev with --jobs: the four Jobs as Pods, and the admin logins only they read', () => {
  const names = [
    'dispatch-infra',
    'dispatch-secrets',
    'dispatch-kafka-admin',
    'dispatch-cassandra-admin',
    'query-api-cassandra',
    'dispatch-dlq-kafka',
    'dispatch-rebuild-kafka',
  ];
  const services = [
    'query-api',
    'order-service',
    'payment-service',
    'inventory-service',
    'delivery-service',
    'webhook-service',
  ];
  const secrets: Record<string, Record<string, string>> = {};
  const all = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, 'x']));
  for (const name of names) {
    secrets[name] = all([
      'KAFKA_BROKERS',
      'PGHOST',
      'PGPORT',
      'PGUSER',
      'PGPASSWORD',
      'REDIS_URL',
      'CASSANDRA_CONTACT_POINTS',
      'CASSANDRA_LOCAL_DC',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
      'CASSANDRA_USERNAME',
      'CASSANDRA_PASSWORD',
    ]);
  }
  for (const s of services) {
    secrets[`${s}-kafka`] = all(['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']);
    if (s !== 'query-api') secrets[`${s}-postgres`] = all(['PGUSER', 'PGPASSWORD']);
  }
  const plan = planPlay(renderKustomization(`${K8S_DIR}/overlays/dev`), {
    portOffset: 20000,
    registry: 'localhost',
    secrets,
    configMaps: { 'dispatch-token-jwks': { 'jwks.json': '{"keys":[]}' } },
    jobImages: images,
  });
  expect(plan.jobs.map((j) => j.pod).sort()).toEqual([
    'dispatch-cassandra-roles',
    'dispatch-kafka-access',
    'dispatch-postgres-roles',
    'dispatch-topics',
  ]);
  expect(plan.played.filter((o) => o.kind === 'Pod')).toHaveLength(4);
  expect(plan.leftOut.map((o) => o.kind)).not.toContain('Job');
  const played = plan.secrets.map((s) => withoutHashSuffix(s.metadata.name));
  for (const admin of ['dispatch-secrets', 'dispatch-kafka-admin', 'dispatch-cassandra-admin'])
    expect(played).toContain(admin);
  // Without --jobs no admin login is played (manifests.test.ts: exactly the services' own).
  const scripts = plan.played
    .filter((o) => o.kind === 'ConfigMap')
    .map((o) => withoutHashSuffix(o.metadata.name));
  expect(scripts).toEqual(
    expect.arrayContaining([
      'dispatch-kafka-access-script',
      'dispatch-postgres-sql',
      'dispatch-cassandra-roles-script',
      'kafka-topics',
    ]),
  );
});
