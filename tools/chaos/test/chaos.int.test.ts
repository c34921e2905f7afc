import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT, requireRunningServices, SERVICE_NAMES } from '@dispatch/testkit';

/**
 * `pnpm chaos` as an operator runs it, against the running stack (`pnpm stack up`): services are
 * killed with SIGKILL and restarted under load, Kafka and Cassandra are killed, PostgreSQL and Redis
 * cut; afterwards every accepted order is delivered and charged once, its read model is the fold of
 * its events, the stock adds up and the DLQs hold only the run's poison. Runs last in the test
 * command: it restarts services and servers.
 */
const exec = promisify(execFile);

async function chaos(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec('pnpm', ['--silent', 'chaos', ...args], {
    cwd: REPO_ROOT,
    env: process.env,
    timeout: 900_000,
  }).catch((err: { stdout: string; stderr: string; code: number }) => {
    throw new Error(`chaos exited ${err.code}:\n${err.stdout}\n${err.stderr}`);
  });
}

function expectEveryOrderDelivered(stdout: string): void {
  expect(stdout).toContain('every invariant held');
  const [, accepted, delivered] = /^(\d+) orders accepted, (\d+) delivered/m.exec(stdout) ?? [];
  expect(Number(accepted)).toBeGreaterThan(0);
  expect(Number(delivered)).toBe(Number(accepted));
}

it('kills services under load and every invariant still holds', async () => {
  const { stdout, stderr } = await chaos(['--duration', '20', '--interval', '5', '--concurrency', '3']);
  expectEveryOrderDelivered(stdout);
  expect(Number(/^(\d+) disruptions:/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(1);
  expect(stderr).toContain('(SIGKILL)');
  // It leaves the stack as it found it: every service running.
  await requireRunningServices(SERVICE_NAMES);
}, 900_000);

it('survives each server fault once — Kafka and Cassandra killed, PostgreSQL and Redis refused — and every invariant holds', async () => {
  // One round of four faults: each strikes once (shuffled; the round is finished even past the
  // duration), PostgreSQL and Redis with an outage (their first cut refuses connections).
  const { stdout, stderr } = await chaos([
    '--victims',
    'none',
    '--faults',
    'kafka,cassandra,postgres,redis',
    '--duration',
    '20',
    '--interval',
    '4',
    '--concurrency',
    '3',
    '--timeout',
    '240',
  ]);
  expectEveryOrderDelivered(stdout);
  for (const struck of [
    'kafka killed (SIGKILL)',
    'cassandra killed (SIGKILL)',
    'postgres refused',
    'redis refused',
  ]) {
    expect(stdout).toContain(struck);
  }
  expect(stderr).toContain('services restarted behind fault proxies');
  await requireRunningServices(SERVICE_NAMES);
}, 900_000);
