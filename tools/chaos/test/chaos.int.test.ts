import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT, requireRunningServices, SERVICE_NAMES } from '@dispatch/testkit';

/**
 * `pnpm chaos` as an operator runs it, against the running stack (`pnpm stack up`): services are
 * killed with SIGKILL and restarted under load, and afterwards every accepted order is delivered and
 * charged once and the stock adds up. Runs last in the test command: it restarts services.
 */
const exec = promisify(execFile);

it('kills services under load and every invariant still holds', async () => {
  const { stdout, stderr } = await exec(
    'pnpm',
    ['--silent', 'chaos', '--duration', '20', '--interval', '5', '--concurrency', '3'],
    { cwd: REPO_ROOT, env: process.env, timeout: 600_000 },
  ).catch((err: { stdout: string; stderr: string; code: number }) => {
    throw new Error(`chaos exited ${err.code}:\n${err.stdout}\n${err.stderr}`);
  });
  expect(stdout).toContain('every invariant held');
  const kills = Number(/^(\d+) kills:/m.exec(stdout)?.[1]);
  expect(kills).toBeGreaterThanOrEqual(1);
  expect(stderr).toContain('(SIGKILL)');
  const [, accepted, delivered] = /^(\d+) orders accepted, (\d+) delivered/m.exec(stdout) ?? [];
  expect(Number(accepted)).toBeGreaterThan(0);
  expect(Number(delivered)).toBe(Number(accepted));
  // It leaves the stack as it found it: every service running.
  await requireRunningServices(SERVICE_NAMES);
}, 600_000);
