/**
 * The kubelet's part, which podman 4.3 does not play: each container's readiness probe asked until it
 * answers 200, then its startup and liveness probes once (they must answer 200 too), on the host
 * network at the port the manifest's probes name (after the offset). A container that exits or
 * restarts is reported with its log; at the deadline, every pod not ready yet is.
 */
import { performance } from 'node:perf_hooks';
import type { JobTarget } from './jobs';
import type { ProbeTarget } from './manifests';
import { containerLogs, containerName, containerState, KubePlayError, log } from './podman';

export async function probe(port: number, path: string): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
    await response.arrayBuffer();
    return String(response.status);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    return (cause as NodeJS.ErrnoException).code ?? String(cause);
  }
}

/** True when nothing listens on the port (a played pod may take it). */
export async function portIsFree(port: number): Promise<boolean> {
  return (await probe(port, '/')) === 'ECONNREFUSED';
}

/** Seconds from `since` until each target's readiness probe answered 200. */
export async function waitForPods(
  targets: ProbeTarget[],
  since: number,
  timeoutSeconds: number,
): Promise<Map<string, number>> {
  const ready = new Map<string, number>();
  const last = new Map<string, string>();
  const deadline = since + timeoutSeconds * 1000;
  for (;;) {
    for (const target of targets) {
      if (ready.has(target.deployment)) continue;
      const container = containerName(target.deployment, target.container);
      const state = containerState(container);
      if (!state)
        throw new KubePlayError(`container ${container} does not exist (podman kube play made no such pod)`);
      const readiness = await probe(target.port, target.readinessPath);
      last.set(target.deployment, `${state.status}, ${state.restarts} restarts, readiness ${readiness}`);
      if (readiness !== '200') continue;
      for (const [field, path] of [
        ['startupProbe', target.startupPath],
        ['livenessProbe', target.livenessPath],
      ] as const) {
        if (path === undefined) continue;
        const answer = await probe(target.port, path);
        if (answer !== '200') {
          throw new KubePlayError(
            `${target.deployment}: ready, but its ${field} (${path} on :${target.port}) answers ${answer}`,
          );
        }
      }
      const seconds = (performance.now() - since) / 1000;
      ready.set(target.deployment, seconds);
      log(
        `  ${target.deployment} ready after ${seconds.toFixed(1)} s: readiness ${target.readinessPath} 200 on :${target.port}` +
          `${target.startupPath ? `, startup ${target.startupPath} 200` : ''}${target.livenessPath ? `, liveness ${target.livenessPath} 200` : ''}` +
          `${state.restarts > 0 ? ` (${state.restarts} restarts first)` : ''}`,
      );
    }
    if (ready.size === targets.length) return ready;
    if (performance.now() > deadline) {
      const waiting = targets.filter((t) => !ready.has(t.deployment));
      const details = waiting.map((t) => {
        const container = containerName(t.deployment, t.container);
        return `${t.deployment} (${last.get(t.deployment)}); last log lines of ${container}:\n${containerLogs(container, 20)}`;
      });
      throw new KubePlayError(`not ready within ${timeoutSeconds} s:\n${details.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** Seconds from `since` until each Job's Pod exited 0; a non-zero exit fails at once, with its log. */
export async function waitForJobs(
  jobs: JobTarget[],
  since: number,
  timeoutSeconds: number,
): Promise<Map<string, number>> {
  const done = new Map<string, number>();
  const deadline = since + timeoutSeconds * 1000;
  for (;;) {
    for (const job of jobs) {
      if (done.has(job.job)) continue;
      const states = job.containers.map((name) => ({ name, state: containerState(name) }));
      const failed = states.find((s) => s.state?.status === 'exited' && s.state.exitCode !== 0);
      if (failed) {
        throw new KubePlayError(
          `Job ${job.job}: ${failed.name} exited with ${failed.state!.exitCode}; its last log lines:\n${containerLogs(failed.name, 30)}`,
        );
      }
      if (states.every((s) => s.state?.status === 'exited')) {
        const seconds = (performance.now() - since) / 1000;
        done.set(job.job, seconds);
        log(
          `  Job ${job.job} (as a Pod) exited 0 after ${seconds.toFixed(1)} s; last line: ${containerLogs(job.containers.at(-1)!, 1)}`,
        );
      }
    }
    if (done.size === jobs.length) return done;
    if (performance.now() > deadline) {
      const waiting = jobs
        .filter((j) => !done.has(j.job))
        .map((j) => `${j.job}:\n${containerLogs(j.containers.at(-1)!, 20)}`);
      throw new KubePlayError(`Jobs not done within ${timeoutSeconds} s: ${waiting.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
