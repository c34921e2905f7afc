// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose/Dockerfile variable syntax, not templates
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  type ComposeFile,
  composeSchemaProblems,
  durationSeconds,
  isLoopback,
  loadCompose,
  publishedPorts,
  publishProblems,
  serviceEnvironment,
  stopGraceProblems,
} from './compose';
import {
  compose,
  drainSeconds,
  OPERATOR_ENV,
  SERVERS_ON_LOOPBACK,
  serviceDrainSeconds,
  text,
} from './compose.fixtures';
import { repoPath } from './paths';
import { SERVICE_CONFIGS } from './service-configs';

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
