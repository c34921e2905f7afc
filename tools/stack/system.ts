import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_REDIS_PORT } from './config';
import { StackError } from './errors';
import { runCommand } from './install';
import type { StackPaths } from './paths';
import type { StartedEntry } from './processes';
import { readPidFile } from './processes';

/**
 * PostgreSQL and Redis are the machine's own (apt packages), not ours: the launcher starts
 * them only when they are down, and records that so `down` stops only what it started.
 */

const PG_CONF_ROOT = '/etc/postgresql';
const PG_CTLCLUSTER = '/usr/bin/pg_ctlcluster';

/** Newest installed cluster version under /etc/postgresql (e.g. "15"), or undefined. */
export function installedPostgresVersion(): string | undefined {
  if (!existsSync(PG_CONF_ROOT) || !existsSync(PG_CTLCLUSTER)) return undefined;
  const versions = readdirSync(PG_CONF_ROOT)
    .filter((entry) => existsSync(path.join(PG_CONF_ROOT, entry, 'main')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0];
}

export async function startPostgres(paths: StackPaths): Promise<StartedEntry> {
  const version = installedPostgresVersion();
  if (version === undefined) {
    throw new StackError(
      'PostgreSQL is not reachable and not installed here (no /etc/postgresql/<version>/main): ' +
        'install it (apt-get install postgresql) or point PGHOST/PGPORT at a running server',
    );
  }
  // --skip-systemctl-redirect: run pg_ctl directly (there is no systemd in our containers/VMs).
  const cluster = ['--skip-systemctl-redirect', version, 'main'];
  await runCommand(PG_CTLCLUSTER, [...cluster, 'start'], paths.repoRoot);
  return { kind: 'command', stop: [PG_CTLCLUSTER, ...cluster, 'stop'], startedAt: new Date().toISOString() };
}

export const POSTGRES_LOG_DIR = '/var/log/postgresql';

export function postgresLogFile(): string | undefined {
  const version = installedPostgresVersion();
  return version === undefined ? undefined : path.join(POSTGRES_LOG_DIR, `postgresql-${version}-main.log`);
}

const REDIS_SERVER = 'redis-server';
export const REDIS_LOG_FILE = '/var/log/redis/ci.log';

export function redisInstalled(): boolean {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((file) => existsSync(file));
}

export async function startRedis(paths: StackPaths): Promise<StartedEntry> {
  if (!redisInstalled()) {
    throw new StackError(
      'Redis is not reachable and not installed here (no redis-server): ' +
        'install it (apt-get install redis-server) or point REDIS_URL at a running server',
    );
  }
  const pidFile = paths.pidFile('redis');
  // No persistence: local Redis holds only caches and idempotency keys that tests recreate.
  await runCommand(
    REDIS_SERVER,
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      String(LOCAL_REDIS_PORT),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      REDIS_LOG_FILE,
      '--pidfile',
      pidFile,
    ],
    paths.repoRoot,
  );
  // The daemonised server writes its pid file shortly after the parent exits.
  for (let i = 0; i < 50 && readPidFile(pidFile) === undefined; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = readPidFile(pidFile);
  if (pid === undefined) throw new StackError(`redis-server started but wrote no pid file at ${pidFile}`);
  return { kind: 'process', pid, marker: REDIS_SERVER, startedAt: new Date().toISOString() };
}
