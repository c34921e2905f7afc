import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KAFKA_ADMIN } from '../../stack/kafka-acls';
import { type Container, findObject, resolveEnv, valueSources, workloads } from './k8s-checks';
import { isToolPrincipal, passwordVariable, principalSecret, usernameVariable } from './kafka-access';
import {
  KAFKA_PRINCIPALS,
  OPERATOR_SECRETS,
  OVERLAYS,
  PG_ROLES,
  useRenderedOverlay,
} from './kubernetes.fixtures';
import { K8S_DIR, KAFKA_ACCESS_SCRIPT } from './paths';
import { SERVICE_CONFIGS } from './service-configs';

describe.each(OVERLAYS)('k8s/$name: credentials', (overlay) => {
  const k8s = useRenderedOverlay(overlay);

  test("the PostgreSQL roles Job applies service-role.sql as the admin, with each service's role, password and database", () => {
    const job = workloads(k8s.objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-postgres-roles')!;
    const c = job.pod.containers[0] as Container & { args: string[] };
    const { env, problems } = resolveEnv(c, valueSources(k8s.objects, overlay.external));
    expect(problems).toEqual([]);
    expect(env.PGPASSWORD).toBe(OPERATOR_SECRETS.PGPASSWORD);
    expect(env.PGDATABASE).toBe('postgres');
    for (const r of PG_ROLES) {
      const prefix = r.role.toUpperCase();
      const own = resolveEnv(k8s.container(r.service), valueSources(k8s.objects, overlay.external)).env;
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
    const sql = findObject(k8s.objects, 'ConfigMap', volume.configMap.name)!;
    expect((sql.data as Record<string, string>)['service-role.sql']).toBe(
      readFileSync(path.join(K8S_DIR, 'base/postgres/service-role.sql'), 'utf8'),
    );
  });

  test.each(SERVICE_CONFIGS)(
    '$name: logs in to Kafka as its own principal $name, from its own Secret, never the admin',
    (s) => {
      const c = k8s.container(s.name);
      const refs = Object.fromEntries(
        (c.env ?? [])
          .filter((v) => v.name.startsWith('KAFKA_SASL_'))
          .map((v) => [v.name, v.valueFrom?.secretKeyRef]),
      );
      expect(refs).toEqual({
        KAFKA_SASL_USERNAME: { name: `${s.name}-kafka`, key: 'KAFKA_SASL_USERNAME' },
        KAFKA_SASL_PASSWORD: { name: `${s.name}-kafka`, key: 'KAFKA_SASL_PASSWORD' },
      });
      const { env } = resolveEnv(c, valueSources(k8s.objects, overlay.external));
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
    for (const w of workloads(k8s.objects)) {
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
    const job = workloads(k8s.objects).find((w) => w.kind === 'Job' && w.name === 'dispatch-kafka-access')!;
    const c = job.pod.containers[0] as Container & { command: string[] };
    expect(c.command).toEqual(['/bin/bash', '/etc/dispatch/kafka/access.sh']);
    const sources = valueSources(k8s.objects, overlay.external);
    const { env, problems } = resolveEnv(c, sources);
    expect(problems).toEqual([]);
    expect(env).toMatchObject({
      KAFKA_ADMIN_USERNAME: KAFKA_ADMIN,
      KAFKA_ADMIN_PASSWORD: 'k8s-check-dispatch-kafka-admin',
    });
    for (const s of SERVICE_CONFIGS) {
      const own = resolveEnv(k8s.container(s.name), sources).env;
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
    const script = findObject(k8s.objects, 'ConfigMap', volume.configMap.name)!;
    expect((script.data as Record<string, string>)['access.sh']).toBe(
      readFileSync(KAFKA_ACCESS_SCRIPT, 'utf8'),
    );
  });

  test('query-api logs in to Cassandra as query_api from its own Secret; the roles Job as the admin, with the script compose runs', () => {
    const refs = Object.fromEntries(
      (k8s.container('query-api').env ?? [])
        .filter((v) => v.name.startsWith('CASSANDRA_'))
        .map((v) => [v.name, v.valueFrom?.secretKeyRef]),
    );
    expect([refs.CASSANDRA_USERNAME, refs.CASSANDRA_PASSWORD]).toEqual([
      { name: 'query-api-cassandra', key: 'CASSANDRA_USERNAME' },
      { name: 'query-api-cassandra', key: 'CASSANDRA_PASSWORD' },
    ]);
    const own = resolveEnv(k8s.container('query-api'), valueSources(k8s.objects, overlay.external)).env;
    expect([own.CASSANDRA_USERNAME, own.CASSANDRA_PASSWORD]).toEqual([
      'query_api',
      'k8s-check-query-api-cassandra',
    ]);

    const job = workloads(k8s.objects).find(
      (w) => w.kind === 'Job' && w.name === 'dispatch-cassandra-roles',
    )!;
    const c = job.pod.containers[0] as Container & { command: string[] };
    const { env, problems } = resolveEnv(c, valueSources(k8s.objects, overlay.external));
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
    const script = findObject(k8s.objects, 'ConfigMap', volume.configMap.name)!;
    expect((script.data as Record<string, string>)['roles.sh']).toBe(
      readFileSync(path.join(K8S_DIR, 'base/cassandra/roles.sh'), 'utf8'),
    );
  });
});
