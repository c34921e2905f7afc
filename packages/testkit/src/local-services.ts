import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

/**
 * Stops and starts the machine's own PostgreSQL cluster, for tests that prove a service
 * notices its database going away. Only possible where the server runs on this machine.
 */
function pgCluster(): { version: string } {
  let versions: string[];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {
    throw new Error(
      "No local PostgreSQL cluster (/etc/postgresql missing): this test needs the machine's own server.",
    );
  }
  const version = versions.sort().at(-1);
  if (!version) throw new Error('No PostgreSQL cluster under /etc/postgresql.');
  return { version };
}

export function stopLocalPostgres(): void {
  const { version } = pgCluster();
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop', '-m', 'fast'], {
    stdio: 'pipe',
  });
}

/** Starts the cluster unless it already runs. */
export function startLocalPostgres(): void {
  const { version } = pgCluster();
  try {
    // `status` exits 0 when the cluster runs, 3 when it is down.
    execFileSync('pg_ctlcluster', [version, 'main', 'status'], { stdio: 'pipe' });
    return;
  } catch {
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'pipe' });
  }
}

/** The machine's Redis, as `pnpm stack up` starts it when it is down (tools/stack/system.ts). */
const LOCAL_REDIS_PORT = '6379';
const LOCAL_REDIS_ARGS = [
  '--daemonize',
  'yes',
  '--bind',
  '127.0.0.1',
  '-::1',
  '--port',
  LOCAL_REDIS_PORT,
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  '/var/lib/redis',
  '--logfile',
  '/var/log/redis/ci.log',
];

/** True when the machine's Redis answers PING. */
export function localRedisAnswers(): boolean {
  try {
    return (
      execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', LOCAL_REDIS_PORT, 'ping'], {
        stdio: 'pipe',
        timeout: 3_000,
      })
        .toString()
        .trim() === 'PONG'
    );
  } catch {
    return false;
  }
}

/**
 * Stops the machine's Redis at once, without saving (it holds only caches, locks and counters),
 * for tests that prove a service stays correct without it. Every user of that Redis loses it too:
 * restart it with startLocalRedis() in a finally block.
 */
export function stopLocalRedis(): void {
  if (!localRedisAnswers())
    throw new Error('The local Redis (127.0.0.1:6379) is not running; nothing to stop.');
  try {
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', LOCAL_REDIS_PORT, 'shutdown', 'nosave'], {
      stdio: 'pipe',
      timeout: 10_000,
    });
  } catch {
    // redis-cli may report the connection closing under it; whether Redis is gone is checked below.
  }
  if (localRedisAnswers()) throw new Error('The local Redis still answers PING after SHUTDOWN NOSAVE.');
}

/** Starts the machine's Redis with the launcher's settings unless it already runs, and waits for PING. */
export async function startLocalRedis(opts: { timeoutMs?: number } = {}): Promise<void> {
  if (localRedisAnswers()) return;
  execFileSync('redis-server', LOCAL_REDIS_ARGS, { stdio: 'pipe', timeout: 10_000 });
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (!localRedisAnswers()) {
    if (Date.now() >= deadline)
      throw new Error('The local Redis did not answer PING after redis-server started.');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
