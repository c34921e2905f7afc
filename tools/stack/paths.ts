import path from 'node:path';
import { DEFAULT_LOG_ROTATION, type LogRotationPolicy } from '@dispatch/platform';

/**
 * How every log under .stack/logs is rotated: by size, `<name>.log.1` (newest) … `.<keep>`. The
 * launcher rotates at (re)start, Node services while they run, Kafka and Cassandra through their
 * logging config (the launcher hands them these numbers as system properties).
 */
export const LOG_ROTATION: LogRotationPolicy = DEFAULT_LOG_ROTATION;

/** The repository root (tools/stack/ is two levels below it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where everything the launcher downloads, renders, stores and logs lives (git-ignored). */
export interface StackPaths {
  repoRoot: string;
  /** infra/local: pom.xml and the committed server configs. */
  infraDir: string;
  stackDir: string;
  libDir(name: string): string;
  confDir(name: string): string;
  dataDir(name: string): string;
  /** `.stack/logs/<name>.log`; rotated ones are `<name>.log.1` (newest) to `.<LOG_ROTATION.keep>`. */
  logFile(name: string): string;
  pidFile(name: string): string;
  /** What `up` itself started, so `down` stops only that. */
  startedFile: string;
  /** `export KEY=value` lines for test runners (`source .stack/env`). */
  envFile: string;
  /** Serialises concurrent `up`/`down` runs. */
  lockFile: string;
}

export function stackPaths(repoRoot: string = REPO_ROOT): StackPaths {
  const stackDir = path.join(repoRoot, '.stack');
  return {
    repoRoot,
    infraDir: path.join(repoRoot, 'infra', 'local'),
    stackDir,
    libDir: (name) => path.join(stackDir, 'lib', name),
    confDir: (name) => path.join(stackDir, 'conf', name),
    dataDir: (name) => path.join(stackDir, 'data', name),
    logFile: (name) => path.join(stackDir, 'logs', `${name}.log`),
    pidFile: (name) => path.join(stackDir, 'pids', `${name}.pid`),
    startedFile: path.join(stackDir, 'started.json'),
    envFile: path.join(stackDir, 'env'),
    lockFile: path.join(stackDir, 'stack.lock'),
  };
}
