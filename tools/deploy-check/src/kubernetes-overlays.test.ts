import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Container, findObject, resolveEnv, selects, valueSources, workloads } from './k8s-checks';
import { brokerAuthProblems, parseProperties, sharedAuthSettings } from './kafka-broker';
import { OVERLAYS, validator } from './kubernetes.fixtures';
import type { KubeObject } from './kubernetes-schemas';
import { renderKustomization } from './kustomize';
import { COMPOSE_FILE, K8S_DIR, repoPath } from './paths';
import { SERVICE_CONFIGS } from './service-configs';

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
