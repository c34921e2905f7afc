import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { UsageError } from '../errors';
import type { StackPaths } from '../paths';
import { tailFile } from '../processes';
import { APP_SERVICES, findAppService, parseInstanceName } from '../services';
import { postgresLogFile, REDIS_LOG_FILE } from '../system';

export function logFileFor(name: string, paths: StackPaths): string {
  if (name === 'kafka' || name === 'cassandra' || name === 'prometheus') return paths.logFile(name);
  if (name === 'redis') return REDIS_LOG_FILE;
  if (name === 'postgres') {
    const file = postgresLogFile();
    if (file === undefined) throw new UsageError('PostgreSQL is not installed on this machine');
    return file;
  }
  if (findAppService(name) !== undefined || parseInstanceName(name) !== undefined) return paths.logFile(name);
  throw new UsageError(
    `no log named "${name}"; try kafka, cassandra, postgres, redis or a service (${APP_SERVICES.map((s) => s.name).join(', ')})`,
  );
}

export async function logs(name: string, lines: number, follow: boolean, paths: StackPaths): Promise<void> {
  const file = logFileFor(name, paths);
  if (!existsSync(file)) throw new UsageError(`${file} does not exist yet (has ${name} been started?)`);
  if (!follow) {
    process.stdout.write(`${tailFile(file, lines)}\n`);
    return;
  }
  // -F follows the name: across a rotation by rename (at restart; Kafka and Cassandra by size) and
  // by truncation in place (a Node service's own rotation by size).
  const child = spawn('tail', ['-n', String(lines), '-F', file], { stdio: 'inherit' });
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
}
