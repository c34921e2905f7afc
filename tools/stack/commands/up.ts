import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServices } from '../app-services';
import {
  CASSANDRA_ADMIN_ROLE,
  ensureCassandraRoles,
  launcherCassandraCredentials,
  localConfigRequiresAuthentication,
  readinessLogins,
} from '../cassandra-auth';
import type { StackConfig } from '../config';
import { describeError, StackError } from '../errors';
import { installJars, jarsAreCurrent } from '../install';
import { checkJava, javaBinary } from '../java';
import { kafkaLogins, kafkaPrincipals } from '../kafka-acls';
import { ensureKafkaAcls } from '../kafka-admin';
import { ensureKafkaPasswords, launcherKafka } from '../kafka-auth';
import { ensureScramUsers } from '../kafka-scram';
import type { StackPaths } from '../paths';
import { ensureServiceRoles, serviceRoles } from '../postgres-roles';
import {
  isRunning,
  recordStarted,
  runningPid,
  startDetached,
  stopProcess,
  tailFile,
  withLock,
} from '../processes';
import { info, step } from '../progress';
import { startStackPrometheus } from '../prometheus';
import { ensureDatabases, ensureKeyspace, ensureTopics } from '../provision';
import {
  cassandraCheck,
  isPortOpen,
  kafkaCheck,
  postgresCheck,
  type ReadinessCheck,
  redisCheck,
  waitUntilReady,
} from '../readiness';
import { formatSeconds, renderEnvFile } from '../render';
import { cassandraServer, type JvmServer, kafkaServer } from '../servers';
import { APP_SERVICES, readySummary, stackEnvVars } from '../services';
import { startPostgres, startRedis } from '../system';
import { stackTopics } from '../topics';

/** A server `up` waits for: how to check it and, when we run it, how to tell it died. */
interface Pending {
  title: string;
  check: ReadinessCheck;
  timeoutMs: number;
  isAlive?: () => boolean;
  logFile?: string;
}

export interface UpOptions {
  /** Servers only, no services (integration tests start their own service instances). */
  infraOnly: boolean;
  /** Also run Prometheus on 127.0.0.1:9090 with the committed scrape jobs and alert rules. */
  withPrometheus?: boolean;
}

export async function up(config: StackConfig, paths: StackPaths, options: UpOptions): Promise<void> {
  const started = Date.now();
  await withLock(
    paths.lockFile,
    async () => {
      const pending: Pending[] = [];

      // 1. Kafka and Cassandra from jars: install, then launch both before waiting (they boot in parallel).
      const jvmServers = [
        {
          server: kafkaServer,
          local: config.kafka.local,
          check: kafkaCheck(() => launcherKafka(config.kafka)),
        },
        {
          server: cassandraServer,
          local: config.cassandra.local,
          check: cassandraCheck(config.cassandra, () => readinessLogins(config.cassandra)),
        },
      ];
      const localJvm = jvmServers.filter((entry) => entry.local);
      const java = javaBinary();
      if (localJvm.length > 0) await checkJava(java);
      for (const { server } of localJvm) {
        if (jarsAreCurrent(paths, server.name, server.mavenProfile)) continue;
        const runningNow = runningPid(paths.pidFile(server.name), server.marker(paths));
        if (runningNow !== undefined) {
          // Never swap jars under a running JVM; the new ones are copied on the next start.
          info(
            `${server.title}: infra/local/pom.xml changed but it is running (pid ${runningNow}); restart to update`,
          );
          continue;
        }
        const jars = await step(
          `${server.title}: copying jars from Maven Central into .stack/lib/${server.name}`,
          () => installJars(paths, server.name, server.mavenProfile),
        );
        info(`  ${jars} jars`);
      }
      for (const { server, local, check } of jvmServers) {
        if (!local) {
          info(`${server.title}: external (${addressOf(server, config)}), only checking it`);
          pending.push({ title: server.title, check, timeoutMs: 30_000 });
          continue;
        }
        pending.push(await launchJvmServer(server, check, paths, java));
      }

      // 2. PostgreSQL and Redis belong to the machine: start them only if they are down.
      pending.push(
        await ensureMachineServer(
          'PostgreSQL',
          postgresCheck(config.postgres),
          config.postgres.local,
          `${config.postgres.host}:${config.postgres.port}`,
          async () => {
            recordStarted(paths.startedFile, 'postgres', await startPostgres(paths));
          },
        ),
      );
      pending.push(
        await ensureMachineServer(
          'Redis',
          redisCheck(config.redis.url),
          config.redis.local,
          config.redis.url,
          async () => {
            recordStarted(paths.startedFile, 'redis', await startRedis(paths));
          },
        ),
      );

      // 3. Wait until each one really works.
      await Promise.all(
        pending.map((p) =>
          step(`${p.title}: waiting until ready`, async () => {
            const detail = await waitUntilReady(p.title, p.check, {
              timeoutMs: p.timeoutMs,
              isAlive: p.isAlive,
              diagnostics: p.logFile ? () => tailFile(p.logFile!, 30) : undefined,
            });
            info(`  ${p.title}: ${detail}`);
          }),
        ),
      );

      // 4. What the services expect to exist.
      await step('PostgreSQL: databases', async () => {
        const created = await ensureDatabases(config.postgres);
        info(
          `  ${config.postgres.databases.join(', ')}${created.length > 0 ? ` (created ${created.join(', ')})` : ''}`,
        );
      });
      await step('PostgreSQL: one login role per service, owning its database', async () => {
        const { generated } = await ensureServiceRoles(config.postgres, serviceRoles(APP_SERVICES));
        if (generated.length > 0)
          info(`  generated passwords in .stack/secrets/postgres for ${generated.join(', ')}`);
      });
      let cassandraAuth = false;
      if (config.cassandra.local) {
        await step('Cassandra: admin and service roles', async () => {
          const result = await ensureCassandraRoles(
            config.cassandra,
            localConfigRequiresAuthentication(
              readFileSync(path.join(paths.infraDir, 'cassandra', 'cassandra.yaml'), 'utf8'),
            ),
          );
          cassandraAuth = result.authentication;
          if (!result.authentication) info('  authentication is off in its config: no roles');
          if (result.adminCreated) info(`  created the superuser ${CASSANDRA_ADMIN_ROLE}`);
          if (result.defaultRoleDisabled) info('  the default cassandra role can no longer log in');
          for (const file of result.generated) info(`  generated ${path.relative(paths.repoRoot, file)}`);
        });
      }
      await step(`Cassandra: keyspace ${config.cassandra.keyspace}`, async () => {
        const granted = await ensureKeyspace(
          config.cassandra,
          launcherCassandraCredentials(config.cassandra),
          cassandraAuth,
        );
        if (granted.length > 0) info(`  granted ${granted.join(', ')}`);
      });
      const kafkaAdmin = launcherKafka(config.kafka);
      if (config.kafka.local) {
        await step('Kafka: one principal per service and tool (SASL/SCRAM)', async () => {
          const changed = await ensureScramUsers({
            java,
            classpath: `${paths.libDir('kafka')}/*`,
            dataDir: paths.dataDir('kafka'),
            confDir: paths.confDir('kafka'),
            bootstrap: config.kafka.brokers[0] ?? '127.0.0.1:9092',
            passwords: ensureKafkaPasswords(
              config.kafka.secretsDir,
              kafkaLogins(APP_SERVICES.map((s) => s.name)),
            ),
            cwd: paths.repoRoot,
          });
          if (changed.length > 0) info(`  created or updated ${changed.join(', ')}`);
        });
      }
      await step(`Kafka: topics (${config.kafka.partitions} partitions each)`, async () => {
        const result = await ensureTopics(config.kafka, kafkaAdmin, stackTopics(config.kafka.partitions));
        if (result.created.length > 0) info(`  created ${result.created.join(', ')}`);
        if (result.retentionFixed.length > 0)
          info(`  set retention.ms=-1 on ${result.retentionFixed.join(', ')}`);
      });
      if (config.kafka.local) {
        await step('Kafka: ACLs (each principal only its own topics and group)', async () => {
          const changes = await ensureKafkaAcls(kafkaAdmin, kafkaPrincipals(APP_SERVICES.map((s) => s.name)));
          if (changes.created + changes.deleted > 0)
            info(`  ${changes.created} created, ${changes.deleted} revoked`);
        });
      }

      // 5. The services that exist under services/ (see services.ts), then the demo catalogue.
      const services = options.infraOnly ? [] : await startServices(config, paths);
      if (options.infraOnly) info('--infra-only: services not started');
      const prometheusUrl = options.withPrometheus
        ? await step('Prometheus on 127.0.0.1:9090', () => startStackPrometheus(paths))
        : undefined;

      // 6. Addresses for test runners.
      const env = renderEnvFile(stackEnvVars(config, paths));
      writeFileSync(paths.envFile, env);
      info(`\nStack ready in ${formatSeconds(Date.now() - started)}. Addresses (also in .stack/env):\n`);
      process.stdout.write(env);
      if (!options.infraOnly) process.stdout.write(`\n${readySummary(services)}`);
      if (prometheusUrl) info(`\nPrometheus: ${prometheusUrl} (alerts: ${prometheusUrl}/alerts)`);
    },
    (holder) => info(`waiting for another pnpm stack run (pid ${holder}) to finish ...`),
  );
}

function addressOf(server: JvmServer, config: StackConfig): string {
  return server.name === 'kafka' ? config.kafka.brokers.join(',') : config.cassandra.contactPoints.join(',');
}

async function launchJvmServer(
  server: JvmServer,
  check: ReadinessCheck,
  paths: StackPaths,
  java: string,
): Promise<Pending> {
  const marker = server.marker(paths);
  const logFile = paths.logFile(server.name);
  /** Waiting for an instance of ours: its log is shown and its exit noticed. */
  const ours = (pid: number): Pending => ({
    title: server.title,
    check,
    timeoutMs: server.readyTimeoutMs,
    isAlive: () => isRunning(pid, marker),
    logFile,
  });
  let existing = runningPid(paths.pidFile(server.name), marker);
  if (existing !== undefined && server.configIsCurrent?.(paths) === false) {
    // The committed config changed since it started (e.g. authentication switched on): restart it.
    const outcome = await step(
      `${server.title}: infra/local config changed since it started (pid ${existing}), restarting it`,
      () => stopProcess(existing!, marker, server.stopGraceMs),
    );
    if (outcome === 'killed') info(`  ${server.title} did not stop in time and was killed (SIGKILL)`);
    existing = undefined;
  }
  if (existing !== undefined) {
    info(`${server.title}: already running (pid ${existing}), not restarting`);
    return ours(existing);
  }
  if (await isPortOpen('127.0.0.1', server.port)) {
    // Not ours (no live pid file). Use it if it works; otherwise we cannot start on that port.
    try {
      await check();
    } catch (err) {
      throw new StackError(
        `port ${server.port} is in use by a process that is not a working ${server.title} started by pnpm stack ` +
          `(${describeError(err)}). Find it with: ss -ltnp 'sport = :${server.port}'`,
      );
    }
    info(
      `${server.title}: a server not started by pnpm stack answers on port ${server.port}; using it as is`,
    );
    return { title: server.title, check, timeoutMs: 30_000 };
  }
  const args = await step(`${server.title}: preparing config in .stack/conf/${server.name}`, () =>
    server.prepare(paths, java),
  );
  const pid = startDetached({
    command: java,
    args,
    cwd: paths.repoRoot,
    logFile,
    pidFile: paths.pidFile(server.name),
    timerSlackNs: server.timerSlackNs,
  });
  recordStarted(paths.startedFile, server.name, {
    kind: 'process',
    pid,
    marker,
    startedAt: new Date().toISOString(),
  });
  info(`${server.title}: started (pid ${pid}, log ${path.relative(paths.repoRoot, logFile)})`);
  return ours(pid);
}

async function ensureMachineServer(
  title: string,
  check: ReadinessCheck,
  local: boolean,
  address: string,
  start: () => Promise<void>,
): Promise<Pending> {
  try {
    await check();
    return { title, check, timeoutMs: 10_000 };
  } catch (err) {
    if (!local) throw new StackError(`${title} at ${address} is not reachable: ${describeError(err)}`);
    await step(`${title}: not running at ${address}, starting it`, start);
    return { title, check, timeoutMs: 30_000 };
  }
}
