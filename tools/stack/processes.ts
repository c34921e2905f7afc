import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogRotationPolicy, rotatedLogFile, rotateLogAtRest } from '@dispatch/platform';
import { StackError } from './errors';
import { LOG_ROTATION } from './paths';

/**
 * Detached background processes with pid files, and the record of what `up` started.
 * A pid file alone is not trusted: the process must still exist and its command line must
 * contain a marker (e.g. the rendered config path), so a stale pid reused by some other
 * program is never signalled.
 */

export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function writePidFile(file: string, pid: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line, or undefined where /proc is not available (or it is gone/a zombie). */
function commandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length > 0 ? raw.replaceAll('\0', ' ') : '';
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and (where /proc exists) its command line contains `marker`. */
export function isRunning(pid: number, marker: string): boolean {
  if (!processExists(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  const cmd = commandLine(pid);
  return cmd?.includes(marker) ?? false;
}

/** Pid from the pid file if that process is still ours; removes a stale pid file. */
export function runningPid(pidFile: string, marker: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  if (isRunning(pid, marker)) return pid;
  rmSync(pidFile, { force: true });
  return undefined;
}

export interface DetachedSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
  /** Default LOG_ROTATION. */
  rotation?: LogRotationPolicy;
  /** The process's timer slack in ns (Linux; see withTimerSlack). Default: the kernel's (50 µs). */
  timerSlackNs?: number;
}

/**
 * The command that runs `command args` with a timer slack of `ns`: a shell sets its own
 * /proc/self/timerslack_ns, then execs the command, which keeps the value (so does every thread it
 * starts) and the shell's pid. Timers and timed waits of the process may then fire up to `ns` late,
 * and it wakes that much less often from short sleeps. Best effort: where the file cannot be written
 * (not Linux, an old kernel) the command runs with the default slack.
 */
export function withTimerSlack(
  command: string,
  args: readonly string[],
  ns: number,
): { command: string; args: string[] } {
  if (!Number.isInteger(ns) || ns < 1)
    throw new RangeError(`timer slack must be a positive integer of ns, got ${ns}`);
  return {
    command: '/bin/sh',
    args: [
      '-c',
      '{ echo "$1" > /proc/self/timerslack_ns; } 2>/dev/null; shift; exec "$@"',
      'sh',
      String(ns),
      command,
      ...args,
    ],
  };
}

/**
 * Starts a process that outlives the launcher: its own session (so Ctrl-C on `pnpm stack up`
 * does not kill it), stdout+stderr appended to the log file, pid written to the pid file.
 * Earlier runs' lines stay in the log: it is rotated (to <name>.log.1 … .<keep>) only when over
 * the size, and each run starts with a `--- started … ---` line. While it runs, the process itself
 * keeps the file under the size (Node services, via DISPATCH_LOG_FILE; Kafka and Cassandra through
 * their logging config): see packages/platform/src/log-rotation.ts.
 */
export function startDetached(spec: DetachedSpec): number {
  mkdirSync(path.dirname(spec.logFile), { recursive: true });
  rotateLogAtRest(spec.logFile, spec.rotation ?? LOG_ROTATION);
  const fd = openSync(spec.logFile, 'a');
  try {
    writeSync(fd, startBanner(new Date()));
    const { command, args } =
      spec.timerSlackNs === undefined ? spec : withTimerSlack(spec.command, spec.args, spec.timerSlackNs);
    const child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    // Spawn failures (ENOENT...) are reported asynchronously; the pid check below catches them.
    child.on('error', () => undefined);
    if (child.pid === undefined) {
      throw new StackError(`could not start ${spec.command}: is it installed and on PATH?`);
    }
    child.unref();
    writePidFile(spec.pidFile, child.pid);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** The line that opens each run in an appended log. */
export function startBanner(at: Date): string {
  return `--- started by pnpm stack at ${at.toISOString()} ---\n`;
}

export type StopOutcome = 'not-running' | 'stopped' | 'killed';

/** SIGTERM, wait up to `graceMs` for a clean exit, then SIGKILL. */
export async function stopProcess(pid: number, marker: string, graceMs: number): Promise<StopOutcome> {
  if (!isRunning(pid, marker)) return 'not-running';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, marker)) return 'stopped';
    await sleep(200);
  }
  process.kill(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isRunning(pid, marker) && Date.now() < killDeadline) await sleep(100);
  return 'killed';
}

/**
 * Last `lines` lines of a log (for `logs` and error messages about a server that died). When the
 * log was rotated moments ago and holds fewer lines, the rest come from the end of `<file>.1`.
 */
export function tailFile(file: string, lines: number): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const current = lastLines(readFileSync(file, 'utf8'), lines);
  const rotated = rotatedLogFile(file, 1);
  if (current.length >= lines || !existsSync(rotated)) return current.join('\n');
  return [...lastLines(readFileSync(rotated, 'utf8'), lines - current.length), ...current].join('\n');
}

/** The last `n` lines of a text, without the empty string after a final newline. */
function lastLines(text: string, n: number): string[] {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return n > 0 ? all.slice(-n) : [];
}

// ---- what `up` started ---------------------------------------------------------------

/** A process we can signal ourselves, or one stopped by running a command (PostgreSQL). */
export type StartedEntry =
  | { kind: 'process'; pid: number; marker: string; startedAt: string }
  | { kind: 'command'; stop: string[]; startedAt: string };

export type StartedRecord = Record<string, StartedEntry>;

export function readStarted(file: string): StartedRecord {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StartedRecord;
  } catch {
    throw new StackError(`${file} is not valid JSON; delete it if nothing is running`);
  }
}

export function writeStarted(file: string, record: StartedRecord): void {
  mkdirSync(path.dirname(file), { recursive: true });
  if (Object.keys(record).length === 0) rmSync(file, { force: true });
  else writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

export function recordStarted(file: string, name: string, entry: StartedEntry): void {
  writeStarted(file, { ...readStarted(file), [name]: entry });
}

// ---- one launcher at a time ----------------------------------------------------------

/**
 * Runs `fn` while holding an exclusive lock file, so two concurrent `pnpm stack up` runs
 * (several engineers or test runners on one machine) never start two brokers. A lock left by
 * a dead launcher is taken over.
 */
export async function withLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  onWait: (holder: number) => void,
  timeoutMs = 10 * 60_000,
): Promise<T> {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPidFile(lockFile);
      if (holder === undefined || !processExists(holder)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StackError(`another pnpm stack (pid ${holder}) still holds ${lockFile}`);
      }
      if (!announced) onWait(holder);
      announced = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
