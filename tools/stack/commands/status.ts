import { runningInstances, serviceMarker } from '../app-services';
import { readinessLogins } from '../cassandra-auth';
import type { StackConfig } from '../config';
import { describeError } from '../errors';
import { launcherKafka } from '../kafka-auth';
import type { StackPaths } from '../paths';
import { readStarted, runningPid } from '../processes';
import { cassandraCheck, kafkaCheck, postgresCheck, type ReadinessCheck, redisCheck } from '../readiness';
import { cassandraServer, kafkaServer } from '../servers';
import { findServices, httpReadyCheck, serviceUrl } from '../services';

interface Row {
  name: string;
  address: string;
  managedBy: string;
  pid?: number;
  check: ReadinessCheck;
}

/** One line per server and service: who runs it, its pid, and whether it really works right now. */
export async function status(config: StackConfig, paths: StackPaths): Promise<boolean> {
  const started = readStarted(paths.startedFile);
  const managed = (name: string, local: boolean, machine: boolean) => {
    if (!local) return 'external';
    if (started[name]) return 'pnpm stack up';
    return machine ? 'the machine' : 'not started by up';
  };
  const rows: Row[] = [
    {
      name: 'kafka',
      address: config.kafka.brokers.join(','),
      managedBy: managed('kafka', config.kafka.local, false),
      pid: runningPid(paths.pidFile('kafka'), kafkaServer.marker(paths)),
      check: kafkaCheck(() => launcherKafka(config.kafka), 10_000),
    },
    {
      name: 'cassandra',
      address: config.cassandra.contactPoints.join(','),
      managedBy: managed('cassandra', config.cassandra.local, false),
      pid: runningPid(paths.pidFile('cassandra'), cassandraServer.marker(paths)),
      check: cassandraCheck(config.cassandra, () => readinessLogins(config.cassandra), 10_000),
    },
    {
      name: 'postgres',
      address: `${config.postgres.host}:${config.postgres.port}`,
      managedBy: managed('postgres', config.postgres.local, true),
      check: postgresCheck(config.postgres, 5_000),
    },
    {
      name: 'redis',
      address: config.redis.url,
      managedBy: managed('redis', config.redis.local, true),
      check: redisCheck(config.redis.url, 5_000),
    },
  ];
  // The services present in this checkout, and extra instances started for tests.
  for (const service of findServices(paths.repoRoot).present) {
    rows.push({
      name: service.name,
      address: serviceUrl(service),
      managedBy: started[service.name] ? 'pnpm stack up' : 'not started by up',
      pid: runningPid(paths.pidFile(service.name), serviceMarker(service, paths)),
      check: httpReadyCheck(service),
    });
  }
  for (const extra of runningInstances(paths)) {
    rows.push({
      name: extra.name,
      address: serviceUrl(extra.service, extra.port),
      managedBy: 'pnpm stack instance',
      pid: extra.pid,
      check: httpReadyCheck(extra.service, extra.port),
    });
  }
  const nameWidth = Math.max(10, ...rows.map((row) => row.name.length));
  const results = await Promise.all(
    rows.map(async (row) => {
      try {
        return { row, ok: true, detail: await row.check() };
      } catch (err) {
        return { row, ok: false, detail: describeError(err) };
      }
    }),
  );
  for (const { row, ok, detail } of results) {
    const pid = row.pid === undefined ? '' : ` pid ${row.pid}`;
    process.stdout.write(
      `${ok ? 'READY    ' : 'NOT READY'} ${row.name.padEnd(nameWidth)} ${row.address.padEnd(24)} (${row.managedBy}${pid}) ${detail}\n`,
    );
  }
  return results.every((result) => result.ok);
}
