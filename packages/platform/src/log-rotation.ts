import {
  copyFileSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
} from 'node:fs';

/**
 * Size-based rotation of a process's log file, for the local stack (`pnpm stack up`). The launcher
 * starts every process detached with stdout and stderr appended to `.stack/logs/<name>.log`, then
 * exits: nobody supervises the file afterwards. So:
 *
 * - at every (re)start the launcher rotates the file if it is over the size (`rotateLogAtRest`), and
 *   the new run appends to it;
 * - a long-running Node service rotates its own stdout file while it runs (`startStdoutRotation`,
 *   turned on by createLogger when the launcher set DISPATCH_LOG_FILE): once it is over the size, it
 *   copies it to `<file>.1` and truncates it in place. Its stdout/stderr descriptor is in append mode,
 *   so the next line goes to the start of the emptied file, and every writer in the process (pino,
 *   console, Node's own warnings) keeps writing to the one file `logs -f` follows. The copy and the
 *   truncation happen in one synchronous step on the main thread, and the service's logger writes
 *   synchronously, so no line falls between them;
 * - Kafka and Cassandra rotate their file through their own logging (log4j2, logback) with the same
 *   size and count (infra/local).
 *
 * Rotated files are `<file>.1` (newest) to `<file>.<keep>`; the oldest is deleted.
 */

export interface LogRotationPolicy {
  /** Rotate once the file is larger than this. */
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
}

export const DEFAULT_LOG_ROTATION: Readonly<LogRotationPolicy> = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  keep: 5,
});

/** The environment the launcher gives a service so it rotates its own log. */
export const LOG_FILE_ENV = 'DISPATCH_LOG_FILE';
export const LOG_MAX_BYTES_ENV = 'DISPATCH_LOG_MAX_BYTES';
export const LOG_KEEP_ENV = 'DISPATCH_LOG_KEEP';

export function rotatedLogFile(file: string, n: number): string {
  return `${file}.${n}`;
}

/** Moves `<file>.1..keep-1` one up, dropping `<file>.<keep>`: room for a new `<file>.1`. */
function shiftRotated(file: string, keep: number): void {
  rmSync(rotatedLogFile(file, keep), { force: true });
  for (let n = keep - 1; n >= 1; n -= 1) {
    const from = rotatedLogFile(file, n);
    if (existsSync(from)) renameSync(from, rotatedLogFile(file, n + 1));
  }
}

/**
 * For a file nobody writes to at the moment (the launcher, before it starts the process): when it is
 * larger than maxBytes, renames it to `<file>.1` after shifting the older ones. Returns whether it did.
 */
export function rotateLogAtRest(file: string, policy: LogRotationPolicy = DEFAULT_LOG_ROTATION): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size <= policy.maxBytes) return false;
  if (policy.keep < 1) {
    rmSync(file, { force: true });
    return true;
  }
  shiftRotated(file, policy.keep);
  renameSync(file, rotatedLogFile(file, 1));
  return true;
}

/**
 * Rotates a file that is being appended to through `fd`: copies it to `<file>.1` (after shifting the
 * older ones), then truncates it through `fd`. Synchronous, so no write of this thread falls between
 * the copy and the truncation.
 */
export function rotateInPlace(file: string, fd: number, keep: number): void {
  if (keep >= 1) {
    shiftRotated(file, keep);
    copyFileSync(file, rotatedLogFile(file, 1));
  }
  ftruncateSync(fd, 0);
}

/** The rotation the launcher asked for in `env`, or undefined (not run by the launcher, or malformed). */
export function logRotationFromEnv(
  env: NodeJS.ProcessEnv,
): ({ file: string } & LogRotationPolicy) | undefined {
  const file = env[LOG_FILE_ENV];
  if (!file) return undefined;
  const maxBytes = Number(env[LOG_MAX_BYTES_ENV] ?? DEFAULT_LOG_ROTATION.maxBytes);
  const keep = Number(env[LOG_KEEP_ENV] ?? DEFAULT_LOG_ROTATION.keep);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || !Number.isSafeInteger(keep) || keep < 0) {
    return undefined;
  }
  return { file, maxBytes, keep };
}

/** The variables logRotationFromEnv reads. */
export function logRotationEnv(
  file: string,
  policy: LogRotationPolicy = DEFAULT_LOG_ROTATION,
): Record<string, string> {
  return {
    [LOG_FILE_ENV]: file,
    [LOG_MAX_BYTES_ENV]: String(policy.maxBytes),
    [LOG_KEEP_ENV]: String(policy.keep),
  };
}

/** True when `fd` is open on the regular file `file` (same device and inode). */
export function isFdOnFile(fd: number, file: string): boolean {
  let open: Stats;
  let named: Stats;
  try {
    open = fstatSync(fd);
    named = statSync(file);
  } catch {
    return false;
  }
  return open.isFile() && named.isFile() && open.dev === named.dev && open.ino === named.ino;
}

export interface StdoutRotation {
  /** Checks the size now and rotates when over; returns whether it rotated. */
  check(): boolean;
  stop(): void;
}

/**
 * Rotates `file` in place whenever it grows past maxBytes, checked every `intervalMs` (a timer that
 * does not keep the process alive) and on check(). Only when `fd` (default stdout) is open on that
 * file; otherwise returns undefined and does nothing.
 */
export function startStdoutRotation(
  options: { file: string; fd?: number; intervalMs?: number } & LogRotationPolicy,
): StdoutRotation | undefined {
  const fd = options.fd ?? 1;
  if (!isFdOnFile(fd, options.file)) return undefined;
  const check = (): boolean => {
    try {
      if (fstatSync(fd).size <= options.maxBytes) return false;
      // Someone moved or replaced the file: rotating would copy the wrong one.
      if (!isFdOnFile(fd, options.file)) return false;
      rotateInPlace(options.file, fd, options.keep);
      return true;
    } catch (err) {
      process.stderr.write(`log rotation of ${options.file} failed: ${(err as Error).message}\n`);
      return false;
    }
  };
  const timer = setInterval(check, options.intervalMs ?? 5_000);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}

let processRotation: StdoutRotation | undefined;
let processRotationDecided = false;

/**
 * The process-wide stdout rotation the launcher's environment asks for, started on the first call.
 * Undefined when the process was not started by the launcher (containers log to stdout as before).
 */
export function stdoutRotationFromEnv(env: NodeJS.ProcessEnv = process.env): StdoutRotation | undefined {
  if (!processRotationDecided) {
    processRotationDecided = true;
    const wanted = logRotationFromEnv(env);
    if (wanted) processRotation = startStdoutRotation(wanted);
  }
  return processRotation;
}
