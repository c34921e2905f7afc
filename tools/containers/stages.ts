/**
 * The stages of the containers test, each a condition polled with a bound: podman-compose 1.0.x
 * ignores depends_on conditions, and podman runs no healthcheck by itself without systemd timers,
 * so the test waits for what the conditions say (healthy, completed successfully) itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../stack/paths';
import { findAppService } from '../stack/services';
import type { ComposeProject } from './compose';
import { ContainersError, pollUntil } from './host';
import { answers, describe } from './order';
import { INIT_JOBS, SERVERS, SERVICES } from './plan';

export async function tails(project: ComposeProject, services: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    services.map(
      async (s) => `--- ${s}: last lines of its log ---\n${(await project.logsTail(s, 25)).trimEnd()}`,
    ),
  );
  return parts.join('\n');
}

/** Seconds since `t0`, as the timeline prints them. */
function since(t0: number): string {
  return `${Math.round((performance.now() - t0) / 1000)} s`;
}

/** The servers up, until each passes its compose healthcheck. */
export async function startServers(project: ComposeProject, capMs: number, t0: number): Promise<string> {
  await project.up(SERVERS, capMs, false);
  const healthyAt = new Map<string, string>();
  await pollUntil(`the healthchecks of ${SERVERS.join(', ')}`, capMs, async () => {
    for (const server of SERVERS.filter((s) => !healthyAt.has(s))) {
      const state = await project.state(server);
      if (state.status === 'unknown') continue;
      if (state.status !== 'running') {
        throw new ContainersError(
          `${server} is ${state.status} (exit ${state.exitCode})\n${await tails(project, [server])}`,
        );
      }
      if (await project.healthy(server)) healthyAt.set(server, since(t0));
    }
    const pending = SERVERS.filter((s) => !healthyAt.has(s));
    return pending.length === 0
      ? { done: true, value: undefined }
      : { done: false, last: `not yet healthy: ${pending.join(', ')}` };
  });
  return SERVERS.map((s) => `${s} healthy at ${healthyAt.get(s)}`).join(', ');
}

/** How often a failed init job is started again (they are idempotent), as a Job's backoffLimit. */
export const INIT_JOB_RETRIES = 2;

/** The line of a job's log that says why it failed: its last exception or error, else its last line. */
export function failureLine(log: string): string {
  const lines = log
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const cause = [...lines]
    .reverse()
    .find((line) => /exception|error|failed|refused|timed? ?out|^kafka-access:/i.test(line));
  return (cause ?? lines.at(-1) ?? '(no log)').slice(0, 200);
}

/**
 * The one-shot init jobs (topics, Kafka logins and ACLs, databases and roles, Cassandra roles), until
 * each exited 0. A job that exits non-zero is started again, at most INIT_JOB_RETRIES times, and the
 * report says so with its error: here podman's DNS (aardvark-dns) sometimes fails a lookup of `kafka`
 * while other containers join the network ("No resolvable bootstrap urls").
 */
export async function runInitJobs(project: ComposeProject, capMs: number, t0: number): Promise<string> {
  await project.up(INIT_JOBS, capMs, true);
  const doneAt = new Map<string, string>();
  const retries = new Map<string, string[]>();
  await pollUntil(`${INIT_JOBS.join(', ')} to exit`, capMs, async () => {
    for (const job of INIT_JOBS.filter((j) => !doneAt.has(j))) {
      const state = await project.state(job);
      if (state.status === 'exited' || state.status === 'stopped') {
        if (state.exitCode !== 0) {
          const failures = retries.get(job) ?? [];
          // The whole log of this attempt is kept (a restart appends to it).
          const [kept] = project.saveLogs([job], `failed-${failures.length + 1}`);
          const why = `exit ${state.exitCode}: ${failureLine(readFileSync(kept!, 'utf8'))} (log: ${path.relative(REPO_ROOT, kept!)})`;
          if (failures.length >= INIT_JOB_RETRIES) {
            throw new ContainersError(
              `${job} failed ${failures.length + 1} times (${[...failures, why].join('; ')})\n${await tails(project, [job])}`,
            );
          }
          retries.set(job, [...failures, why]);
          await project.start(job);
          continue;
        }
        doneAt.set(job, since(t0));
      }
    }
    const pending = INIT_JOBS.filter((j) => !doneAt.has(j));
    return pending.length === 0
      ? { done: true, value: undefined }
      : { done: false, last: `still running: ${pending.join(', ')}` };
  });
  const retried = [...retries].map(
    ([job, why]) => `${job} started again ${why.length}× after ${why.join('; ')}`,
  );
  return [
    INIT_JOBS.map((j) => `${j} 0 at ${doneAt.get(j)}`).join(', '),
    ...(retried.length > 0 ? [`RETRIED: ${retried.join('; ')}`] : []),
  ].join('; ');
}

/** The six services, until the image's HEALTHCHECK passes and /health/ready answers 200 on the published port. */
export async function startServices(
  project: ComposeProject,
  ports: number[],
  capMs: number,
  t0: number,
): Promise<string> {
  await project.up(SERVICES, capMs, true);
  const readyAt = new Map<string, string>();
  const last = new Map<string, string>();
  await pollUntil(`${SERVICES.join(', ')} to be ready`, capMs, async () => {
    for (const [i, service] of SERVICES.entries()) {
      if (readyAt.has(service)) continue;
      const state = await project.state(service);
      if (state.status !== 'running') {
        last.set(service, `${state.status} (exit ${state.exitCode})`);
        continue;
      }
      const ready = await answers(`http://127.0.0.1:${ports[i]}${findAppService(service)!.readyPath}`);
      if (typeof ready === 'string' || ready.status !== 200) {
        last.set(service, describe(ready));
        continue;
      }
      if (await project.healthy(service)) readyAt.set(service, since(t0));
      else last.set(service, 'ready, HEALTHCHECK not yet passing');
    }
    const pending = SERVICES.filter((s) => !readyAt.has(s));
    return pending.length === 0
      ? { done: true, value: undefined }
      : { done: false, last: pending.map((s) => `${s}: ${last.get(s) ?? '?'}`).join('; ') };
  });
  return `all six ready and healthy, the last at ${[...readyAt.values()].at(-1)} (127.0.0.1:${ports[0]}-${ports.at(-1)})`;
}

/**
 * SIGTERM to the six services at once (`podman stop -t <grace>`): each must drain and exit 0 within
 * the grace period (SIGKILL after it would be exit 137).
 */
export async function drainServices(project: ComposeProject, graceSeconds: number): Promise<string> {
  const t0 = performance.now();
  await project.stop(SERVICES, graceSeconds);
  const seconds = (performance.now() - t0) / 1000;
  const states = await Promise.all(SERVICES.map(async (s) => [s, await project.state(s)] as const));
  const bad = states.filter(([, state]) => state.exitCode !== 0 || state.status === 'running');
  if (bad.length > 0) {
    throw new ContainersError(
      `not drained cleanly: ${bad.map(([s, st]) => `${s} ${st.status} exit ${st.exitCode}`).join(', ')}\n${await tails(
        project,
        bad.map(([s]) => s),
      )}`,
    );
  }
  // Each service logs `shutting down` with the signal, then every drain step (platform's shutdown).
  const logs = await Promise.all(SERVICES.map((s) => project.logsTail(s, 40)));
  const logged = logs.filter((text) => /"reason":"SIGTERM".*"msg":"shutting down"/.test(text)).length;
  return `all six exited 0 in ${seconds.toFixed(1)} s (grace ${graceSeconds} s); ${logged} of 6 logged "shutting down" on SIGTERM and their drain steps`;
}
