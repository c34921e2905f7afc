import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './eventually';
import { REPO_ROOT, SERVICE_PORTS, type ServiceName, serviceUrl, stackDir } from './services';

/**
 * Process helpers for end-to-end tests against the stack `pnpm stack up` runs: its pid files
 * (.stack/pids/<name>.pid), its restart command, and extra instances of a service.
 */

/** Polls GET <url>/health/ready (or the URL itself if it names an endpoint) until it answers 200. */
export async function waitForReady(url: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const readyUrl = /\/health\/(ready|live)$/.test(url) ? url : `${url.replace(/\/+$/, '')}/health/ready`;
  await eventually(
    async () => {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) });
      if (response.status !== 200) throw new Error(`${readyUrl} answered ${response.status}`);
    },
    { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 250 },
  );
}

/** Why a GET of a service's readiness endpoint failed, or undefined when it answered 200. */
async function readinessProblem(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
    return response.status === 200 ? undefined : `GET /health/ready answered ${response.status}`;
  } catch (err) {
    // fetch says only "fetch failed"; the reason is its cause. Duck-typed: under jest the error
    // classes come from another realm, so instanceof Error does not hold.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return 'not listening (connection refused)';
    return cause?.message ?? (err as { message?: string }).message ?? String(err);
  }
}

/**
 * Fails with one clear message unless every named service answers ready: e2e tests and the load
 * benchmark run against the stack `pnpm stack up` started, they never start it themselves.
 */
export async function requireRunningServices(names: ServiceName[]): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const url = serviceUrl(name);
      const problem = await readinessProblem(url);
      if (problem !== undefined) problems.push(`  ${name} at ${url}: ${problem}`);
    }),
  );
  if (problems.length > 0) {
    throw new Error(
      `This needs the running stack (end-to-end tests, the load benchmark), but:\n${problems.sort().join('\n')}\n` +
        'Start it with `./dispatch up` (or `pnpm stack up`), check it with `./dispatch status`, then run this again.',
    );
  }
}

function pidFile(name: string): string {
  return path.join(stackDir(), 'pids', `${name}.pid`);
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The entry point in a service's command line: how we know a pid is really that service. */
function serviceMarker(name: ServiceName): string {
  // In the compiled entry point (dist/main.js) and in the tsx one (src/main.ts) of older instances.
  return path.join(REPO_ROOT, 'services', name) + path.sep;
}

function isAlive(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker);
  } catch {
    // No /proc (macOS): trust the pid file; a zombie or vanished process reads as gone.
    return !existsSync('/proc/self');
  }
}

async function waitUntilGone(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid, marker)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Signals the stack's instance of a service (default SIGKILL: a crash, nothing flushed) and
 * waits until it is gone. Returns the pid it killed.
 */
export async function killService(name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
  const marker = serviceMarker(name);
  const pid = readPid(pidFile(name));
  if (pid === undefined || !isAlive(pid, marker)) {
    throw new Error(
      `${name} is not running (no live pid in ${pidFile(name)}); start the stack with \`pnpm stack up\``,
    );
  }
  process.kill(pid, signal);
  if (!(await waitUntilGone(pid, marker, signal === 'SIGKILL' ? 10_000 : 30_000))) {
    throw new Error(`${name} (pid ${pid}) still runs after ${signal}`);
  }
  return pid;
}

/**
 * Runs `pnpm stack <args>` (the launcher, without pnpm's start-up cost) and returns its output.
 * `env` is laid over this process's environment; the launcher hands it on to the services it starts.
 */
function runLauncher(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'tools', 'stack', 'cli.ts'), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`pnpm stack ${args.join(' ')} failed (exit ${code}):\n${output}`));
    });
  });
}

/** The servers the launcher runs from their jars (PostgreSQL and Redis are the machine's own). */
export type ServerName = 'kafka' | 'cassandra';

/** What the JVM's command line holds: how we know a pid is really that server. */
const SERVER_MAIN_CLASS: Record<ServerName, string> = {
  kafka: 'kafka.Kafka',
  cassandra: 'org.apache.cassandra.service.CassandraDaemon',
};

/** SIGKILLs a server of the stack (a crash: nothing flushed, no clean shutdown) and waits until it is gone. */
export async function killServer(name: ServerName): Promise<number> {
  const marker = SERVER_MAIN_CLASS[name];
  const pid = readPid(pidFile(name));
  if (pid === undefined || !isAlive(pid, marker)) {
    throw new Error(
      `${name} is not running (no live pid in ${pidFile(name)}); start the stack with \`pnpm stack up\``,
    );
  }
  process.kill(pid, 'SIGKILL');
  if (!(await waitUntilGone(pid, marker, 10_000)))
    throw new Error(`${name} (pid ${pid}) still runs after SIGKILL`);
  return pid;
}

/**
 * Starts again whatever of the stack's servers is not running (`pnpm stack up --infra-only`, which
 * leaves what is healthy alone) and returns once each answers a real round trip.
 */
export async function startServers(): Promise<void> {
  await runLauncher(['up', '--infra-only']);
}

/** `pnpm stack restart <name>`, then waits until the service answers ready. */
export async function restartService(name: ServiceName): Promise<void> {
  await runLauncher(['restart', name]);
  await waitForReady(serviceUrl(name));
}

/**
 * `pnpm stack restart <name>` with `env` added to the environment the launcher gives the service
 * (e.g. OTEL_* variables to turn tracing on, KAFKA_GROUP_ID), then waits until it answers ready.
 * `restartService(name)` puts it back to the stack's own environment. PGDATABASE, CASSANDRA_KEYSPACE
 * and PORT are the launcher's: the service keeps its port and its store.
 */
export async function restartServiceWithEnv(name: ServiceName, env: Record<string, string>): Promise<void> {
  await runLauncher(['restart', name], env);
  await waitForReady(serviceUrl(name));
}

export interface ExtraInstance {
  name: ServiceName;
  port: number;
  url: string;
  pid: number;
  /** SIGTERM (graceful: consumers leave the group, offsets committed), SIGKILL after 30 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/**
 * Starts another instance of a running service on `port`, with the same environment the
 * launcher gives the first one (same database, consumer group, secret) plus `env`, and waits until
 * it is ready. Stop it in afterAll; `pnpm stack down` also stops leftovers.
 */
export async function startExtraInstance(
  name: ServiceName,
  port: number,
  env: Record<string, string> = {},
): Promise<ExtraInstance> {
  if (port === SERVICE_PORTS[name]) throw new Error(`port ${port} is ${name}'s own; pick another`);
  await runLauncher(['instance', name, '--port', String(port)], env);
  const file = pidFile(`${name}@${port}`);
  const pid = readPid(file);
  if (pid === undefined) throw new Error(`pnpm stack instance wrote no pid file at ${file}`);
  const marker = serviceMarker(name);
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(url);
  const signalAndWait = async (signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> => {
    if (!isAlive(pid, marker)) return true;
    process.kill(pid, signal);
    return waitUntilGone(pid, marker, timeoutMs);
  };
  return {
    name,
    port,
    url,
    pid,
    stop: async () => {
      if (!(await signalAndWait('SIGTERM', 30_000))) await signalAndWait('SIGKILL', 10_000);
      rmSync(file, { force: true });
    },
    kill: async () => {
      await signalAndWait('SIGKILL', 10_000);
      rmSync(file, { force: true });
    },
  };
}

/** A TCP port nobody listens on right now (for extra instances). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}
