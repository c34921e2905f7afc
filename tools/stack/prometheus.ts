import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePrometheus, PrometheusInstallError } from '../observability/ensure-prometheus';
import { PrometheusApi, prometheusArgs } from '../observability/prometheus-api';
import { readCommittedConfig, renderLocalConfig } from '../observability/prometheus-config';
import { StackError } from './errors';
import type { StackPaths } from './paths';
import { isRunning, recordStarted, runningPid, startDetached, tailFile } from './processes';
import { info } from './progress';
import { isPortOpen, waitUntilReady } from './readiness';

/**
 * `pnpm stack up --with-prometheus`: a Prometheus on 127.0.0.1:9090 scraping the local services with
 * the committed jobs (dashboards/prometheus.yml) and alert rules (dashboards/alerts.yml, loaded from the
 * repository so an edit applies after POST /-/reload). Config in .stack/conf/prometheus, data in
 * .stack/data/prometheus, log .stack/logs/prometheus.log. `down` stops it like every process `up` started.
 */
export const PROMETHEUS_NAME = 'prometheus';
export const PROMETHEUS_PORT = 9090;

export function prometheusConfigFile(paths: StackPaths): string {
  return path.join(paths.confDir(PROMETHEUS_NAME), 'prometheus.yml');
}

/** The rendered config for this checkout: 15 s scrapes of 127.0.0.1:8080-8085 and of itself. */
export function renderStackPrometheusConfig(paths: StackPaths, port = PROMETHEUS_PORT): string {
  return renderLocalConfig(readCommittedConfig(path.join(paths.repoRoot, 'dashboards', 'prometheus.yml')), {
    selfAddress: `127.0.0.1:${port}`,
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    ruleFiles: [path.join(paths.repoRoot, 'dashboards', 'alerts.yml')],
  });
}

/**
 * Starts (or reloads) the local Prometheus and waits until it is ready. Returns its URL. `port` is
 * for tests; users get 9090.
 */
export async function startStackPrometheus(paths: StackPaths, port = PROMETHEUS_PORT): Promise<string> {
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  let binaries: ReturnType<typeof ensurePrometheus>;
  try {
    binaries = ensurePrometheus();
  } catch (err) {
    if (err instanceof PrometheusInstallError) throw new StackError(err.message);
    throw err;
  }
  const configFile = prometheusConfigFile(paths);
  mkdirSync(path.dirname(configFile), { recursive: true });
  writeFileSync(configFile, renderStackPrometheusConfig(paths, port));
  const api = new PrometheusApi(url);
  const check = async () => {
    await api.ready();
    return `ready at ${url}`;
  };

  // The marker is the rendered config path: only a Prometheus running with it is ours.
  const existing = runningPid(paths.pidFile(PROMETHEUS_NAME), configFile);
  if (existing !== undefined) {
    const reload = await fetch(`${url}/-/reload`, { method: 'POST' }).catch(() => undefined);
    info(
      `Prometheus: already running (pid ${existing})${reload?.ok ? ', config and rules reloaded' : ''}, ${url}`,
    );
    return url;
  }
  if (await isPortOpen('127.0.0.1', port)) {
    throw new StackError(
      `port ${port} is in use by a process that is not a Prometheus started by pnpm stack. Find it with: ss -ltnp 'sport = :${port}'`,
    );
  }
  const logFile = paths.logFile(PROMETHEUS_NAME);
  const pid = startDetached({
    command: binaries.prometheus,
    args: prometheusArgs({
      configFile,
      dataDir: paths.dataDir(PROMETHEUS_NAME),
      listenAddress: address,
    }),
    cwd: paths.repoRoot,
    logFile,
    pidFile: paths.pidFile(PROMETHEUS_NAME),
  });
  recordStarted(paths.startedFile, PROMETHEUS_NAME, {
    kind: 'process',
    pid,
    marker: configFile,
    startedAt: new Date().toISOString(),
  });
  info(`Prometheus ${binaries.version}: started (pid ${pid}, log ${path.relative(paths.repoRoot, logFile)})`);
  const detail = await waitUntilReady('Prometheus', check, {
    timeoutMs: 60_000,
    intervalMs: 500,
    isAlive: () => isRunning(pid, configFile),
    diagnostics: () => tailFile(logFile, 30),
  });
  info(`  Prometheus: ${detail}`);
  return url;
}
