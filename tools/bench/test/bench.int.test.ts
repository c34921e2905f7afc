import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { listDrivers, REPO_ROOT, SERVICE_NAMES } from '@dispatch/testkit';
import type { BenchResult } from '../run';

/**
 * `pnpm bench` as a user runs it, against the running stack (`pnpm stack up`): a small load whose
 * every order must reach DELIVERED, with the numbers the report promises, and the drivers it added
 * taken off duty again.
 */
const exec = promisify(execFile);

it('drives every order to DELIVERED and reports latency, throughput and memory', async () => {
  const jsonFile = path.join(mkdtempSync(path.join(tmpdir(), 'bench-')), 'result.json');
  const { stdout } = await exec(
    'pnpm',
    ['--silent', 'bench', '--orders', '12', '--concurrency', '4', '--json', jsonFile],
    {
      cwd: REPO_ROOT,
      env: process.env,
      timeout: 180_000,
    },
  );
  const result = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult;

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
