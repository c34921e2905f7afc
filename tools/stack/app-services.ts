import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logRotationEnv } from '@dispatch/platform';
import { BuildError, build } from '../build/build';
import { hasStaleCassandraLogin } from './cassandra-auth';
import type { StackConfig } from './config';
import { NotReadyError, StackError } from './errors';
import { runCommand } from './install';
import { hasStaleKafkaLogin } from './kafka-auth';
import { compiledNodeOptions, serviceNode } from './node';
import { LOG_ROTATION, type StackPaths } from './paths';
import {
  isRunning,
  readStarted,
  recordStarted,
  runningPid,
  type StopOutcome,
  startDetached,
  stopProcess,
  tailFile,
  writeStarted,
} from './processes';
import { info, step } from './progress';
import { isPortOpen, waitUntilReady } from './readiness';
import { ensureTokenKeys } from './secrets';
import {
  type AppService,
  findServices,
  hasScript,
  httpReadyCheck,
  instanceName,
  parseInstanceName,
  readPackageJson,
  serviceEnv,
} from './services';
import { startedEnv } from './started-env';

/** Starting takes migrations and a Kafka group join; two cores share five services. */
export const SERVICE_READY_TIMEOUT_MS = 120_000;
/** Longer than the services' own SHUTDOWN_TIMEOUT_MS (20 s), so a clean shutdown is never cut short. */
export const SERVICE_STOP_GRACE_MS = 25_000;

/**
 * Our services are recognised by their folder in the command line: it is in the compiled entry
 * point (dist/main.js) and was in the tsx one (src/main.ts) of instances started before the build.
 */
export function serviceMarker(service: AppService, paths: StackPaths): string {
  return path.join(paths.repoRoot, service.dir) + path.sep;
}

/**
 * Compiles the services (and the packages they reference) before any starts, so what runs is
 * what the sources say; incremental, about a second when nothing changed.
 */
export async function buildServices(services: AppService[], paths: StackPaths): Promise<void> {
  if (services.length === 0) return;
  await step(`building ${services.map((s) => s.name).join(', ')} (tsc -b)`, async () => {
    try {
      await build(
        paths.repoRoot,
        services.map((s) => s.dir),
        serviceNode(paths),
      );
    } catch (err) {
      throw err instanceof BuildError ? new StackError(err.message) : err;
    }
  });
}

interface Launch {
  /** service name, or service@port for an extra instance */
  name: string;
  service: AppService;
  port: number;
  pid: number;
  /** false: it was already running and ready, nothing to wait for */
  needsWait: boolean;
}

/**
 * True when a running service was started with other token settings than it would get now: one
 * started before tokens were signed asymmetrically verifies HS256 with the old secret and refuses
 * every token `./dispatch token` mints, so `up` restarts it.
 */
export function hasStaleAuth(pid: number, jwksFile: string): boolean {
  const started = startedEnv(pid, ['AUTH_JWKS_FILE', 'AUTH_JWT_SECRET']);
  if (started === undefined) return false;
  return started.AUTH_JWT_SECRET !== undefined || started.AUTH_JWKS_FILE !== jwksFile;
}

/**
 * Makes sure one instance runs: a live pid of ours that answers ready is left alone; a live
 * one that is not ready yet is waited for; a stale pid file is dropped and the service started.
 * One that runs with outdated token settings (an upgraded stack) is restarted.
 */
async function ensureRunning(
  service: AppService,
  port: number,
  name: string,
  config: StackConfig,
  paths: StackPaths,
  jwksFile: string,
  record: boolean,
): Promise<Launch> {
  const marker = serviceMarker(service, paths);
  const check = httpReadyCheck(service, port);
  let existing = runningPid(paths.pidFile(name), marker);
  const staleCassandra =
    existing !== undefined && hasStaleCassandraLogin(existing, service, config.cassandra);
  const staleKafka = existing !== undefined && hasStaleKafkaLogin(existing, config.kafka, service.name);
  if (existing !== undefined && (hasStaleAuth(existing, jwksFile) || staleCassandra || staleKafka)) {
    const outdated = staleKafka
      ? 'Kafka credentials'
      : staleCassandra
        ? 'Cassandra credentials'
        : 'token settings';
    info(`${name}: runs with outdated ${outdated} (pid ${existing}), restarting it`);
    const outcome = await stopProcess(existing, marker, SERVICE_STOP_GRACE_MS);
    if (outcome === 'killed') info(`  ${name} did not exit in time and was killed (SIGKILL)`);
    rmSync(paths.pidFile(name), { force: true });
    existing = undefined;
  }
  if (existing !== undefined) {
    try {
      await check();
      info(`${name}: already running and ready (pid ${existing}), not restarting`);
      return { name, service, port, pid: existing, needsWait: false };
    } catch {
      info(`${name}: running (pid ${existing}) but not ready yet`);
      return { name, service, port, pid: existing, needsWait: true };
    }
  }
  if (await isPortOpen('127.0.0.1', port)) {
    throw new StackError(
      `${name}: port ${port} is in use by a process that pnpm stack did not start (a service started by hand?). ` +
        `Find it with: ss -ltnp 'sport = :${port}'`,
    );
  }
  const logFile = paths.logFile(name);
  const env: NodeJS.ProcessEnv = {
    ...serviceEnv(service, config, jwksFile, process.env, port),
    // The service rotates its own log by size while it runs (createLogger reads these).
    ...logRotationEnv(logFile, LOG_ROTATION),
  };
  const nodeOptions = compiledNodeOptions(env.NODE_OPTIONS);
  if (nodeOptions === undefined) delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = nodeOptions;
  const pid = startDetached({
    command: serviceNode(paths),
    // Stack traces name the .ts lines (tsc writes the source maps).
    args: ['--enable-source-maps', path.join(paths.repoRoot, service.main)],
    cwd: paths.repoRoot,
    env,
    logFile,
    pidFile: paths.pidFile(name),
  });
  if (record) {
    recordStarted(paths.startedFile, name, {
      kind: 'process',
      pid,
      marker,
      startedAt: new Date().toISOString(),
    });
  }
  info(`${name}: started (pid ${pid}, port ${port}, log ${path.relative(paths.repoRoot, logFile)})`);
  return { name, service, port, pid, needsWait: true };
}

/** Waits for every launch in parallel; reports all that failed, each with the end of its log. */
async function waitForLaunches(launches: Launch[], paths: StackPaths): Promise<void> {
  const results = await Promise.allSettled(
    launches
      .filter((launch) => launch.needsWait)
      .map((launch) => {
        const marker = serviceMarker(launch.service, paths);
        return step(`${launch.name}: waiting for GET ${launch.service.readyPath} = 200`, () =>
          waitUntilReady(launch.name, httpReadyCheck(launch.service, launch.port), {
            timeoutMs: SERVICE_READY_TIMEOUT_MS,
            isAlive: () => isRunning(launch.pid, marker),
            diagnostics: () => tailFile(paths.logFile(launch.name), 30),
          }),
        );
      }),
  );
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [describeFailure(result.reason)] : [],
  );
  if (failures.length > 0) throw new NotReadyError(failures.join('\n\n'));
}

function describeFailure(err: unknown): string {
  // NotReadyError carries the log tail in its (multi-line) message; keep all of it.
  return err instanceof Error ? err.message : String(err);
}

/** `up`, after provisioning: start what exists under services/, wait until ready, run their seeds. */
export async function startServices(config: StackConfig, paths: StackPaths): Promise<AppService[]> {
  const { present, unfinished } = findServices(paths.repoRoot);
  for (const service of unfinished) info(`${service.name}: ${service.source} does not exist yet, skipped`);
  if (present.length === 0) return [];
  await buildServices(present, paths);
  const jwksFile = tokenKeys(paths);
  const launches: Launch[] = [];
  for (const service of present) {
    launches.push(await ensureRunning(service, service.port, service.name, config, paths, jwksFile, true));
  }
  await waitForLaunches(launches, paths);
  await seedServices(launches, config, paths, jwksFile);
  return present;
}

/**
 * The local issuer's keys, created when missing (and the HS256 secret of an older stack deleted);
 * returns the public JWKS file the services verify with.
 */
function tokenKeys(paths: StackPaths): string {
  const { files, created, removedLegacySecret } = ensureTokenKeys(paths.stackDir);
  if (created) {
    info(
      'generated the local token signing key (.stack/secrets/token-signing-keys.json, mode 0600) and its public JWKS (.stack/auth/jwks.json)',
    );
  }
  if (removedLegacySecret)
    info('deleted the old HS256 secret .stack/secrets/jwt-secret (no service accepts HS256 any more)');
  return files.jwksFile;
}

/** Records which running instance (pid) a service's seed last succeeded for. */
function seedStampFile(paths: StackPaths, service: AppService): string {
  return path.join(paths.stackDir, 'seeded', service.name);
}

/**
 * Runs each service's own `seed` script when it has one (inventory-service: the demo catalogue;
 * delivery-service: the drivers). Seeds are idempotent by contract; one that already succeeded
 * for the instance now running is not run again, which keeps a repeated `up` fast.
 */
async function seedServices(
  launches: Launch[],
  config: StackConfig,
  paths: StackPaths,
  jwksFile: string,
): Promise<void> {
  const due = launches.filter((launch) => {
    if (!hasScript(readPackageJson(paths.repoRoot, launch.service), 'seed')) return false;
    const stamp = seedStampFile(paths, launch.service);
    return !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== String(launch.pid);
  });
  const results = await Promise.allSettled(
    due.map(({ service, pid }) =>
      step(`${service.name}: seeding (pnpm --filter @dispatch/${service.name} seed)`, async () => {
        const output = await runCommand(
          'pnpm',
          ['--silent', '--filter', `@dispatch/${service.name}`, 'seed'],
          paths.repoRoot,
          serviceEnv(service, config, jwksFile, process.env),
        );
        for (const line of output.trim().split('\n').slice(-3).filter(Boolean)) info(`  ${line}`);
        mkdirSync(path.dirname(seedStampFile(paths, service)), { recursive: true });
        writeFileSync(seedStampFile(paths, service), `${pid}\n`);
      }),
    ),
  );
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [describeFailure(result.reason)] : [],
  );
  if (failures.length > 0) throw new StackError(`seeding failed:\n${failures.join('\n\n')}`);
}

/** SIGTERM (the service shuts down gracefully), SIGKILL after the grace period. */
async function stopByPidFile(name: string, service: AppService, paths: StackPaths): Promise<StopOutcome> {
  const marker = serviceMarker(service, paths);
  const pid = runningPid(paths.pidFile(name), marker);
  const outcome = pid === undefined ? 'not-running' : await stopProcess(pid, marker, SERVICE_STOP_GRACE_MS);
  rmSync(paths.pidFile(name), { force: true });
  return outcome;
}

/** Refuses to start a service whose source this checkout does not have. */
function requireSource(service: AppService, paths: StackPaths): void {
  if (!findServices(paths.repoRoot).present.includes(service)) {
    throw new StackError(`${service.name} cannot start: ${service.source} does not exist in this checkout`);
  }
}

/** `pnpm stack restart <service>`: stop it if it runs, start it, wait until ready. */
export async function restartService(
  service: AppService,
  config: StackConfig,
  paths: StackPaths,
): Promise<void> {
  requireSource(service, paths);
  // Before stopping it: a build that fails leaves the running instance alone.
  await buildServices([service], paths);
  const outcome = await step(`stopping ${service.name}`, () => stopByPidFile(service.name, service, paths));
  if (outcome === 'killed') info(`  ${service.name} did not exit in time and was killed (SIGKILL)`);
  if (outcome === 'not-running') info(`  ${service.name} was not running`);
  const record = readStarted(paths.startedFile);
  delete record[service.name];
  writeStarted(paths.startedFile, record);
  const jwksFile = tokenKeys(paths);
  const launch = await ensureRunning(service, service.port, service.name, config, paths, jwksFile, true);
  await waitForLaunches([launch], paths);
}

/**
 * `pnpm stack instance <service> --port N`: one more instance of a running service, with the
 * same environment on another port (tests: two inventory-service instances share the Kafka
 * consumer group). Pid in .stack/pids/<service>@<port>.pid, log .stack/logs/<service>@<port>.log;
 * not recorded in started.json (its owner stops it), but `down` stops leftovers.
 */
export async function startInstance(
  service: AppService,
  port: number,
  config: StackConfig,
  paths: StackPaths,
): Promise<number> {
  requireSource(service, paths);
  if (port === service.port) {
    throw new StackError(`port ${port} is ${service.name}'s own; pick another port for an extra instance`);
  }
  await buildServices([service], paths);
  const jwksFile = tokenKeys(paths);
  const launch = await ensureRunning(
    service,
    port,
    instanceName(service, port),
    config,
    paths,
    jwksFile,
    false,
  );
  await waitForLaunches([launch], paths);
  return launch.pid;
}

/** Extra instances (`<service>@<port>` pid files) whose process is still ours. */
export function runningInstances(
  paths: StackPaths,
): { name: string; service: AppService; port: number; pid: number }[] {
  let files: string[];
  try {
    files = readdirSync(path.dirname(paths.pidFile('x')));
  } catch {
    return [];
  }
  return files.flatMap((file) => {
    const parsed = file.endsWith('.pid') ? parseInstanceName(file.slice(0, -'.pid'.length)) : undefined;
    if (!parsed) return [];
    const name = instanceName(parsed.service, parsed.port);
    const pid = runningPid(paths.pidFile(name), serviceMarker(parsed.service, paths));
    return pid === undefined ? [] : [{ name, ...parsed, pid }];
  });
}

/** `down`: extra instances go first (nobody recorded them in started.json). */
export async function stopInstances(paths: StackPaths): Promise<void> {
  for (const instance of runningInstances(paths)) {
    await step(`stopping ${instance.name} (extra instance, pid ${instance.pid})`, async () => {
      const outcome = await stopByPidFile(instance.name, instance.service, paths);
      if (outcome === 'killed') info(`  ${instance.name} did not exit in time and was killed (SIGKILL)`);
    });
  }
}
