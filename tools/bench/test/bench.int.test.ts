import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { listDrivers, REPO_ROOT, SERVICE_NAMES } from '@dispatch/testkit';
import { CPU_PROCESS_NAMES } from '../cpu';
import type { IdleResult, OpenLoopResult } from '../open-loop-results';
import type { BenchResult } from '../run';

/**
 * `pnpm bench` as a user runs it, against the running stack (`pnpm stack up`): a small load whose
 * every order must reach DELIVERED, with the numbers the report promises, and the drivers it added
 * taken off duty again; a short open-loop run and the idle measurement. (One file: the test runner
 * runs exactly this one against the running stack.)
 */
const exec = promisify(execFile);

function jsonFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'bench-')), 'result.json');
}

it('drives every order to DELIVERED and reports latency, throughput and memory', async () => {
  const file = jsonFile();
  const { stdout } = await exec(
    'pnpm',
    ['--silent', 'bench', '--orders', '12', '--concurrency', '4', '--json', file],
    {
      cwd: REPO_ROOT,
      env: process.env,
      timeout: 180_000,
    },
  );
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;

  expect(result.failures).toEqual([]);
  expect(result.delivered).toBe(12);
  expect(result.ordersPerSecond).toBeGreaterThan(0);
  for (const step of ['accept', 'placedToAssigned', 'completeToDelivered'] as const) {
    const summary = result.latencyMs[step]!;
    expect(summary.count).toBe(12);
    expect(summary.min).toBeGreaterThan(0);
    expect(summary.p50).toBeLessThanOrEqual(summary.p99);
  }
  // The whole saga cannot be faster than its first step.
  expect(result.latencyMs.placedToAssigned!.min).toBeGreaterThan(result.latencyMs.accept!.min);
  expect(result.memory.map((m) => m.service)).toEqual([...SERVICE_NAMES].sort());
  for (const m of result.memory) {
    expect(m.samples).toBeGreaterThanOrEqual(2);
    expect(m.peakBytes).toBeGreaterThanOrEqual(Math.max(m.startBytes, m.endBytes));
    expect(m.startBytes).toBeGreaterThan(10 * 1024 * 1024);
  }
  expect(stdout).toContain('Delivered 12/12 in');

  const benchDrivers = (await listDrivers()).filter((d) => d.driverId.startsWith('bench-driver-'));
  expect(benchDrivers.filter((d) => d.status === 'AVAILABLE')).toEqual([]);
});

it('offers a constant rate in the open loop, follows every order and finds each in the read model', async () => {
  const file = jsonFile();
  const { stdout } = await exec(
    'pnpm',
    ['--silent', 'bench', '--rate', '5', '--duration', '3', '--complete', '--json', file],
    { cwd: REPO_ROOT, env: process.env, timeout: 120_000 },
  );
  const result = JSON.parse(readFileSync(file, 'utf8')) as OpenLoopResult;

  expect(result.failures).toEqual([]);
  expect(result.steps).toHaveLength(1);
  const [step] = result.steps;
  expect(step).toMatchObject({
    offeredPerSecond: 5,
    due: 15,
    sent: 15,
    clientDrops: 0,
    accepted: 15,
    followed: 15,
  });
  expect(step!.answers).toEqual({ '201': 15 });
  expect(step!.readModel).toMatchObject({ reached: 15, backlog: 0 });
  expect(step!.acceptedPerSecond).toBeGreaterThan(4);
  const { post, saga, completeToDelivered } = step!.latencyMs;
  expect(post).toMatchObject({ count: 15, missing: 0 });
  expect(saga).toMatchObject({ count: 15, missing: 0 });
  expect(completeToDelivered).toMatchObject({ count: 15, missing: 0 });
  // The saga cannot be faster than its first step, and both count from the same due time.
  expect(saga.min!).toBeGreaterThan(post.min!);
  expect(saga.p50!).toBeLessThanOrEqual(saga.p99!);

  const cpu = step!.cpu!;
  expect(cpu.windowSeconds).toBeGreaterThanOrEqual(3);
  expect(cpu.processes.map((p) => p.name)).toEqual([...CPU_PROCESS_NAMES]);
  for (const name of [...SERVICE_NAMES, 'kafka', 'cassandra', 'bench client']) {
    expect(cpu.processes.find((p) => p.name === name)).toMatchObject({ found: true });
    expect(cpu.processes.find((p) => p.name === name)!.cpuSeconds).toBeGreaterThan(0);
  }
  expect(step!.cpuMsPerOrder!.total).toBeCloseTo((cpu.totalSeconds * 1000) / 15, 6);
  expect(stdout).toContain('| 5 | ');
  expect(stdout).toContain('CPU during the');

  const benchDrivers = (await listDrivers()).filter((d) => d.driverId.startsWith('bench-driver-'));
  expect(benchDrivers.filter((d) => d.status === 'AVAILABLE')).toEqual([]);
});

it('measures the CPU the idle stack uses, per process', async () => {
  const file = jsonFile();
  const { stdout } = await exec('pnpm', ['--silent', 'bench', '--idle', '2', '--json', file], {
    cwd: REPO_ROOT,
    env: process.env,
    timeout: 60_000,
  });
  const result = JSON.parse(readFileSync(file, 'utf8')) as IdleResult;

  expect(result.cpu.windowSeconds).toBeGreaterThanOrEqual(2);
  expect(result.cpu.windowSeconds).toBeLessThan(3);
  for (const p of result.cpu.processes) expect(p).toMatchObject({ found: true });
  expect(result.cpu.totalCores).toBeGreaterThan(0);
  expect(result.cpu.totalCores).toBeLessThanOrEqual(result.machine.cpus);
  expect(stdout).toContain('Idle stack for 2 s');
});

it('rejects bad arguments with a clear message and exit code 2', async () => {
  const failure = await exec('pnpm', ['--silent', 'bench', '--orders', 'many'], { cwd: REPO_ROOT }).then(
    () => undefined,
    (err: { code: number; stderr: string }) => err,
  );
  expect(failure?.code).toBe(2);
  expect(failure?.stderr).toContain(
    'dispatch bench: --orders must be a whole number from 1 to 100000, got "many"',
  );
});

it('rejects bad open-loop arguments with exit code 2 too', async () => {
  const failure = await exec('pnpm', ['--silent', 'bench', '--rate', '5'], { cwd: REPO_ROOT }).then(
    () => undefined,
    (err: { code: number; stderr: string }) => err,
  );
  expect(failure?.code).toBe(2);
  expect(failure?.stderr).toContain('dispatch bench: --rate and --rates need --duration');
});
