/** What `./dispatch images` shares between its steps: running commands, logging, where it works. */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../stack/paths';

/** Build logs, caches and scratch files, git-ignored. */
export const WORK_DIR = path.join(REPO_ROOT, '.stack', 'images');
export const LOG_DIR = path.join(WORK_DIR, 'logs');

export function serviceImage(service: string, tag: string): string {
  return `localhost/dispatch/${service}:${tag}`;
}

/** A failure with a message for the user (exit 1, no stack trace). */
export class ImagesError extends Error {}

export function log(message: string): void {
  process.stderr.write(`images: ${message}\n`);
}

export function relative(file: string): string {
  return path.relative(REPO_ROOT, file);
}

/** Runs a command; its output goes to `logFile` (or ours); throws ImagesError on a non-zero exit. */
export function run(command: string, args: string[], options: { logFile?: string; what: string }): void {
  let fd: number | undefined;
  if (options.logFile) {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    fd = openSync(options.logFile, 'w');
  }
  try {
    const result = spawnSync(command, args, {
      stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.error)
      throw new ImagesError(`${options.what}: ${command} did not start (${result.error.message})`);
    if (result.status !== 0) {
      let tail = '';
      if (options.logFile) {
        const lines = readFileSync(options.logFile, 'utf8').trimEnd().split('\n');
        tail = `\n--- last lines of ${relative(options.logFile)} ---\n${lines.slice(-40).join('\n')}\n---`;
      }
      throw new ImagesError(
        `${options.what} failed (${command} exited with ${result.status ?? result.signal})${tail}`,
      );
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A command's stdout; throws ImagesError with its stderr on a non-zero exit. */
export function capture(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new ImagesError(`${what}: ${command} did not start (${result.error.message})`);
  if (result.status !== 0) {
    throw new ImagesError(
      `${what} failed (${command} exited with ${result.status}): ${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

export function succeeds(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

export function onPath(command: string): boolean {
  // debootstrap lives in /usr/sbin, which a non-login root shell may not have on PATH.
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => dir !== '' && existsSync(path.join(dir, command)));
}

/**
 * One `./dispatch images` at a time in this tree: two would debootstrap into the same
 * .stack/images/base and break each other. A lock file with our pid, released at exit; a stale one
 * (its process gone) is taken over.
 */
export function acquireLock(): void {
  const lock = path.join(WORK_DIR, 'lock');
  mkdirSync(WORK_DIR, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      process.on('exit', () => {
        try {
          if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
        } catch {
          // already gone
        }
      });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw new ImagesError(
          `another ./dispatch images (pid ${holder}) is running in this tree; wait for it to finish (${relative(lock)})`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  throw new ImagesError(`could not take ${relative(lock)}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
