/** `./dispatch images --smoke`: one service image run against the running local stack. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadStackConfig } from '../stack/config';
import { REPO_ROOT } from '../stack/paths';
import { findAppService, serviceEnv } from '../stack/services';
import type { ImagesArgs } from './args';
import { capture, ImagesError, LOG_DIR, log, relative, run, serviceImage, WORK_DIR } from './host';
import { formatSeconds } from './report';

async function answers(url: string): Promise<{ status: number; body: string } | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return { status: response.status, body: (await response.text()).slice(0, 300) };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    return (cause as NodeJS.ErrnoException).code ?? String(cause);
  }
}

/** One image against the running local stack: host network, read-only, its own port. */
export async function smoke(args: ImagesArgs): Promise<void> {
  const service = findAppService(args.smokeService)!;
  const image = serviceImage(service.name, args.tag);
  const own = await answers(`http://127.0.0.1:${service.port}${service.readyPath}`);
  if (typeof own === 'string' || own.status !== 200) {
    throw new ImagesError(
      `--smoke runs against the local stack, but ${service.name} on :${service.port} is not ready (${typeof own === 'string' ? own : own.status}): start it with ./dispatch up`,
    );
  }
  const jwks = path.join(REPO_ROOT, '.stack', 'auth', 'jwks.json');
  if (!existsSync(jwks)) throw new ImagesError(`no ${relative(jwks)} (./dispatch up creates it)`);
  const taken = await answers(`http://127.0.0.1:${args.smokePort}/`);
  if (typeof taken !== 'string' || taken !== 'ECONNREFUSED') {
    throw new ImagesError(`port ${args.smokePort} is in use; pick another with --smoke-port`);
  }

  // The launcher's own environment for an extra instance of the service (its database role, Kafka
  // principal, the stack's addresses), nothing inherited from this shell. It joins the service's
  // consumer group, as `./dispatch instance` does. Passwords go in a 0600 file, not on a command line.
  const mountedJwks = '/etc/dispatch/auth/jwks.json';
  const env = Object.entries(serviceEnv(service, loadStackConfig(), mountedJwks, {}, args.smokePort)).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  const bad = env.find(([, value]) => value.includes('\n'));
  if (bad) throw new ImagesError(`${bad[0]} holds a newline; podman's --env-file cannot carry it`);
  const envFile = path.join(WORK_DIR, 'smoke.env');
  mkdirSync(WORK_DIR, { recursive: true });
  writeFileSync(envFile, env.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  chmodSync(envFile, 0o600);

  const name = `dispatch-images-smoke-${service.name}`;
  spawnSync('podman', ['rm', '--force', '--ignore', name], { stdio: 'ignore' });
  const started = performance.now();
  log(`smoke: ${image} as ${name} on :${args.smokePort} (host network, --read-only) against the local stack`);
  try {
    capture(
      'podman',
      [
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'host',
        '--read-only',
        // No systemd timer for the HEALTHCHECK here; `podman healthcheck run` below asks it once.
        '--health-interval',
        'disable',
        '--env-file',
        envFile,
        '--volume',
        `${jwks}:${mountedJwks}:ro`,
        image,
      ],
      `podman run ${image}`,
    );
    rmSync(envFile, { force: true });
    const url = `http://127.0.0.1:${args.smokePort}${service.readyPath}`;
    const deadline = Date.now() + 180_000;
    let last: { status: number; body: string } | string = 'not asked yet';
    for (;;) {
      last = await answers(url);
      if (typeof last !== 'string' && last.status === 200) break;
      const state = capture(
        'podman',
        ['inspect', '--format', '{{.State.Status}}', name],
        'podman inspect',
      ).trim();
      if (state !== 'running' || Date.now() > deadline) {
        const logs = spawnSync('podman', ['logs', '--tail', '30', name], { encoding: 'utf8' });
        throw new ImagesError(
          `smoke: ${url} did not answer 200 (${state}; last: ${typeof last === 'string' ? last : `${last.status} ${last.body}`})\n--- container log ---\n${logs.stdout}${logs.stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    log(`  ${url} answered 200 after ${formatSeconds((performance.now() - started) / 1000)}: ${last.body}`);
    run('podman', ['healthcheck', 'run', name], {
      what: "smoke: the image's HEALTHCHECK",
      logFile: path.join(LOG_DIR, 'smoke-healthcheck.log'),
    });
    log("  the image's HEALTHCHECK (node fetch of /health/live on PORT) says healthy");
    const stopping = performance.now();
    capture('podman', ['stop', '--time', '40', name], 'podman stop');
    const exit = capture(
      'podman',
      ['inspect', '--format', '{{.State.ExitCode}}', name],
      'podman inspect',
    ).trim();
    if (exit !== '0') {
      const logs = spawnSync('podman', ['logs', '--tail', '30', name], { encoding: 'utf8' });
      throw new ImagesError(
        `smoke: ${name} exited with ${exit} on SIGTERM, not 0\n${logs.stdout}${logs.stderr}`,
      );
    }
    log(`  SIGTERM: drained and exited 0 in ${formatSeconds((performance.now() - stopping) / 1000)}`);
  } finally {
    rmSync(envFile, { force: true });
    spawnSync('podman', ['rm', '--force', '--ignore', name], { stdio: 'ignore' });
  }
}
