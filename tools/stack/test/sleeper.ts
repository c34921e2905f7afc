import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A real process started with exactly `env` (and PATH), to read back through /proc/<pid>/environ.
 * Kill it with killSleepers after the test.
 */
export async function sleeper(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
    env: { PATH: process.env.PATH, ...env },
    stdio: 'ignore',
  });
  started.push(child);
  await once(child, 'spawn'); // after exec: its environ is its own, not ours
  return child;
}

const started: ChildProcess[] = [];

/** Kills every sleeper started so far (for afterEach). */
export function killSleepers(): void {
  for (const child of started.splice(0)) child.kill('SIGKILL');
}
