/** What the containers test's steps share: commands with a time bound, polling, logging, its folders. */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../stack/paths';

/** The run's keys, logs and scratch files, git-ignored. */
export const WORK_DIR = path.join(REPO_ROOT, '.stack', 'containers');
export const LOG_DIR = path.join(WORK_DIR, 'logs');

/** A failure with a message for the user (no stack trace). */
export class ContainersError extends Error {}

/** A command that ran past its bound (and was killed). */
export class CommandTimeoutError extends ContainersError {}

export function log(message: string): void {
  process.stderr.write(`containers: ${message}\n`);
}

/** The bound of the whole run (--timeout); every wait and command stops at it. */
export class Deadline {
  private readonly end: number;
  constructor(
    readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.end = now() + seconds * 1000;
  }

  remainingMs(): number {
    return Math.max(0, this.end - this.now());
  }

  /** The smaller of a step's own bound and what is left of the run's. */
  capMs(stepMs: number): number {
    return Math.min(stepMs, this.remainingMs());
  }
}

interface ExecOptions {
  what: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  /** Also pass the command's stderr through (its progress lines). */
  echo?: boolean;
}

export interface Result {
  status: number | null;
  stdout: string;
}

/**
 * Runs a command for at most `timeoutMs` (then SIGKILL and a timeout error naming `what`); its
 * output goes to `logFile` when given (appended) and is returned. Never throws on a non-zero exit.
 */
export function exec(command: string, args: string[], options: ExecOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let file: ReturnType<typeof createWriteStream> | undefined;
    if (options.logFile) {
      mkdirSync(path.dirname(options.logFile), { recursive: true });
      file = createWriteStream(options.logFile, { flags: 'a' });
      file.write(`$ ${command} ${args.join(' ')}\n`);
    }
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      file?.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      file?.write(chunk);
      if (options.echo) process.stderr.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      file?.end();
      reject(new ContainersError(`${options.what}: ${command} did not start (${err.message})`));
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      file?.end();
      if (timedOut) {
        reject(
          new CommandTimeoutError(
            `timed out: ${options.what} was still running after ${Math.round(options.timeoutMs / 1000)} s (killed)`,
          ),
        );
      } else resolve({ status, stdout });
    });
  });
}

/** exec that fails on a non-zero exit, saying where its log is. */
export async function execOk(command: string, args: string[], options: ExecOptions): Promise<string> {
  const result = await exec(command, args, options);
  if (result.status !== 0) {
    const where = options.logFile ? ` (log: ${path.relative(REPO_ROOT, options.logFile)})` : '';
    throw new ContainersError(`${options.what} failed: ${command} exited with ${result.status}${where}`);
  }
  return result.stdout;
}

/** A synchronous command for the teardown (which also runs from a signal handler); `output` has stderr too. */
export function execSync(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Result & { output: string } {
  const result = spawnSync(command, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    env: options.env ?? process.env,
  });
  const stdout = result.stdout ?? '';
  return { status: result.status, stdout, output: `${stdout}${result.stderr ?? ''}` };
}

/**
 * Asks `probe` every `intervalMs` until it says done, for at most `capMs`; then a timeout error
 * naming `what` and the last thing the probe saw. No fixed sleeps: each wait is a condition.
 */
export async function pollUntil<T>(
  what: string,
  capMs: number,
  probe: () => Promise<{ done: true; value: T } | { done: false; last: string }>,
  intervalMs = 2_000,
): Promise<T> {
  const end = Date.now() + capMs;
  let last = 'not asked yet';
  for (;;) {
    const answer = await probe();
    if (answer.done) return answer.value;
    last = answer.last;
    if (Date.now() + intervalMs > end) {
      throw new ContainersError(
        `timed out after ${Math.round(capMs / 1000)} s waiting for ${what} (last: ${last})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
