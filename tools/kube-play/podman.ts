/** The podman side of `./dispatch kube-play`: secrets, play, state, stop and down. */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class KubePlayError extends Error {}

export function log(message: string): void {
  process.stderr.write(`kube-play: ${message}\n`);
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function podman(args: string[]): Result {
  const result = spawnSync('podman', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new KubePlayError(`podman ${args[0]} did not start: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** podman's stderr without its systemd noise (no systemd here: "unable to get systemd connection…"). */
function meaningful(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.includes('systemd connection'))
    .join('\n');
}

function must(args: string[], what: string): string {
  const result = podman(args);
  if (result.status !== 0) {
    throw new KubePlayError(
      `${what} failed (podman exited with ${result.status}): ${meaningful(result.stderr) || result.stdout}`,
    );
  }
  return result.stdout;
}

export function checkPodman(): string {
  const result = spawnSync('podman', ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new KubePlayError(
      `podman does not answer (${result.error?.message ?? result.stderr.trim()}): ./dispatch images installs and sets it up (root, runc, cgroupfs)`,
    );
  }
  return result.stdout.trim();
}

export function imageExists(image: string): boolean {
  return podman(['image', 'exists', image]).status === 0;
}

export function secretExists(name: string): boolean {
  return podman(['secret', 'inspect', name]).status === 0;
}

export function podExists(name: string): boolean {
  return podman(['pod', 'exists', name]).status === 0;
}

/**
 * A podman secret, never on a command line: podman 4.3 reads `-` only from a FIFO (not Node's stdin
 * socket), so the data goes through a 0600 file in `dir` that is removed at once.
 */
export function createSecret(name: string, data: string, dir: string): void {
  const file = path.join(dir, `.secret-${process.pid}`);
  writeFileSync(file, data, { mode: 0o600 });
  try {
    must(['secret', 'create', name, file], `podman secret create ${name}`);
  } finally {
    rmSync(file, { force: true });
  }
}

export function removeSecrets(names: string[]): string[] {
  const removed: string[] = [];
  for (const name of names) {
    if (secretExists(name) && podman(['secret', 'rm', name]).status === 0) removed.push(name);
  }
  return removed;
}

export function kubePlay(file: string): void {
  must(['kube', 'play', '--build=false', '--start', file], `podman kube play ${file}`);
}

export function kubeDown(file: string): string {
  const result = podman(['kube', 'down', file]);
  return result.status === 0 ? 'done' : `podman exited with ${result.status}: ${meaningful(result.stderr)}`;
}

/** The last resort when kube down could not remove a pod. */
export function removePods(pods: string[]): void {
  if (pods.length > 0) podman(['pod', 'rm', '--force', '--time', '10', ...pods]);
}

/** The pod podman makes for a Deployment's first replica. */
export function podName(deployment: string): string {
  return `${deployment}-pod-0`;
}

export function containerName(deployment: string, container: string): string {
  return `${podName(deployment)}-${container}`;
}

export interface ContainerState {
  status: string;
  exitCode: number;
  restarts: number;
}

export function containerState(name: string): ContainerState | undefined {
  const result = podman([
    'inspect',
    '--format',
    '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}',
    name,
  ]);
  if (result.status !== 0) return undefined;
  const [status = '?', exitCode = '-1', restarts = '0'] = result.stdout.trim().split(' ');
  return { status, exitCode: Number(exitCode), restarts: Number(restarts) };
}

export function containerLogs(name: string, lines = 30): string {
  const result = podman(['logs', '--tail', String(lines), name]);
  return `${result.stdout}${result.stderr}`.trimEnd();
}

/** SIGTERM to every container of the pods, SIGKILL after `graceSeconds` (the Deployments' termination grace). */
export function stopPods(pods: string[], graceSeconds: number): void {
  if (pods.length === 0) return;
  must(['pod', 'stop', '--time', String(graceSeconds), ...pods], 'podman pod stop');
}

/** The memory limit podman set (from resources.limits.memory) and what the container uses now, in MiB. */
export function memory(name: string): { limitMiB: number; usedMiB: number } | undefined {
  const limit = podman(['inspect', '--format', '{{.HostConfig.Memory}}', name]);
  const used = podman(['stats', '--no-stream', '--no-reset', '--format', '{{.MemUsage}}', name]);
  if (limit.status !== 0 || used.status !== 0) return undefined;
  const bytes = (text: string): number => {
    const match = /^([\d.]+)\s*([kMG]?B)/i.exec(text.trim());
    if (!match) return Number.NaN;
    const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[match[2]!.toUpperCase()] ?? Number.NaN;
    return Number(match[1]) * unit;
  };
  return {
    limitMiB: Number(limit.stdout.trim()) / 2 ** 20,
    usedMiB: bytes(used.stdout.split('/')[0] ?? '') / 2 ** 20,
  };
}
