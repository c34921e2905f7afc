// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose/Dockerfile variable syntax, not templates
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { KAFKA_ADMIN } from '../../stack/kafka-acls';
import { stackTopics } from '../../stack/topics';
import {
  type ComposeFile,
  dependsOn,
  publishedContainerPorts,
  publishedPorts,
  serviceEnvironment,
} from './compose';
import {
  compose,
  KAFKA_LOGINS,
  KAFKA_TOOL_VARIABLES,
  OPERATOR_ENV,
  SERVERS_ON_LOOPBACK,
} from './compose.fixtures';
import { brokerAuthProblems, parseProperties, sharedAuthSettings } from './kafka-broker';
import { KAFKA_ACCESS_SCRIPT, REPO_ROOT, repoPath } from './paths';

describe('docker-compose.yml: Kafka', () => {
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
});
