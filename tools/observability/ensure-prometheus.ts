/**
 * Finds the `prometheus` and `promtool` binaries, installing Debian's `prometheus` package when they
 * are missing, so the observability tests and `pnpm stack up --with-prometheus` need no manual step.
 *
 *   pnpm exec tsx tools/observability/ensure-prometheus.ts   # prints both paths, installs if needed
 *
 * PROMETHEUS_BIN / PROMTOOL_BIN point at other binaries (e.g. an official release tarball).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export class PrometheusInstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusInstallError';
  }
}

export interface PrometheusBinaries {
  prometheus: string;
  promtool: string;
  /** e.g. "2.42.0+ds" */
  version: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH (or the override), else undefined. */
export function findBinary(
  name: string,
  override: string | undefined,
  env = process.env,
): string | undefined {
  if (override) return isExecutable(override) ? override : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function locate(env = process.env): { prometheus?: string; promtool?: string } {
  return {
    prometheus: findBinary('prometheus', env.PROMETHEUS_BIN, env),
    promtool: findBinary('promtool', env.PROMTOOL_BIN, env),
  };
}

/** The apt-get command line, through sudo when we are not root. */
export function aptCommand(isRoot: boolean, hasSudo: boolean, args: string[]): [string, string[]] {
  if (isRoot) return ['apt-get', args];
  if (hasSudo) return ['sudo', ['-n', 'apt-get', ...args]];
  throw new PrometheusInstallError(
    'prometheus/promtool are not installed and this user cannot install them (not root, no sudo). ' +
      'Install the Debian package `prometheus` (apt-get install prometheus), or set PROMETHEUS_BIN and PROMTOOL_BIN.',
  );
}

function runApt(args: string[]): { ok: boolean; output: string } {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [command, commandArgs] = aptCommand(isRoot, findBinary('sudo', undefined) !== undefined, args);
  const result = spawnSync(command, commandArgs, {
    encoding: 'utf8',
    // No service start (policy-rc.d decides that), no prompts; wait for another apt run's lock.
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 15 * 60_000,
  });
  return {
    ok: result.status === 0,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}`,
  };
}

function install(): void {
  if (findBinary('apt-get', undefined) === undefined) {
    throw new PrometheusInstallError(
      'prometheus/promtool are not installed and there is no apt-get here: install Prometheus 2.x ' +
        '(https://prometheus.io/download/) and put prometheus and promtool on PATH, or set PROMETHEUS_BIN and PROMTOOL_BIN.',
    );
  }
  process.stderr.write('prometheus/promtool missing: installing the Debian package `prometheus` ...\n');
  const installArgs = [
    '-o',
    'DPkg::Lock::Timeout=600',
    'install',
    '-y',
    '--no-install-recommends',
    'prometheus',
  ];
  let attempt = runApt(installArgs);
  if (!attempt.ok) {
    // A fresh machine may have no package lists yet.
    const update = runApt(['-o', 'DPkg::Lock::Timeout=600', 'update']);
    if (!update.ok) {
      throw new PrometheusInstallError(`apt-get update failed:\n${update.output.slice(-2000)}`);
    }
    attempt = runApt(installArgs);
  }
  if (!attempt.ok) {
    throw new PrometheusInstallError(`apt-get install prometheus failed:\n${attempt.output.slice(-2000)}`);
  }
}

function versionOf(promtool: string): string {
  const result = spawnSync(promtool, ['--version'], { encoding: 'utf8' });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return /version (\S+)/.exec(text)?.[1] ?? 'unknown';
}

let cached: PrometheusBinaries | undefined;

/** Both binaries, installed first if needed. Throws PrometheusInstallError with what to do otherwise. */
export function ensurePrometheus(): PrometheusBinaries {
  if (cached) return cached;
  let found = locate();
  if (!found.prometheus || !found.promtool) {
    install();
    found = locate();
  }
  if (!found.prometheus || !found.promtool) {
    throw new PrometheusInstallError(
      `after installing, ${!found.prometheus ? 'prometheus' : 'promtool'} is still not on PATH (${process.env.PATH})`,
    );
  }
  cached = { prometheus: found.prometheus, promtool: found.promtool, version: versionOf(found.promtool) };
  return cached;
}

if (require.main === module) {
  try {
    const binaries = ensurePrometheus();
    process.stdout.write(
      `prometheus ${binaries.prometheus}\npromtool   ${binaries.promtool}\nversion    ${binaries.version}\n`,
    );
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
