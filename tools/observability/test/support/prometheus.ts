import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, freePort, SERVICE_NAMES, serviceUrl } from '@dispatch/testkit';
import { ensurePrometheus } from '../../ensure-prometheus';
import { PrometheusApi, prometheusArgs } from '../../prometheus-api';
import { ALERTS_FILE, readCommittedConfig, renderLocalConfig } from '../../prometheus-config';

export interface TestPrometheus {
  api: PrometheusApi;
  configFile: string;
  /** The end of Prometheus' own log, for failure messages. */
  logTail(): string;
  stop(): Promise<void>;
}

/** host:port of each running service, from the same variables the other tests use (e.g. ORDER_SERVICE_URL). */
function serviceAddresses(): Record<string, string> {
  return Object.fromEntries(SERVICE_NAMES.map((name) => [name, new URL(serviceUrl(name)).host]));
}

/**
 * A real Prometheus (the binary ensurePrometheus found or installed) on a free port, with a temp data
 * folder, scraping the running services with our committed jobs and evaluating dashboards/alerts.yml.
 */
export async function startTestPrometheus(opts: { scrapeInterval: string }): Promise<TestPrometheus> {
  const { prometheus } = ensurePrometheus();
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-prometheus-'));
  const port = await freePort();
  const listenAddress = `127.0.0.1:${port}`;
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    renderLocalConfig(readCommittedConfig(), {
      serviceAddresses: serviceAddresses(),
      selfAddress: listenAddress,
      scrapeInterval: opts.scrapeInterval,
      evaluationInterval: opts.scrapeInterval,
      ruleFiles: [ALERTS_FILE],
    }),
  );
  const logFile = path.join(dir, 'prometheus.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    prometheus,
    prometheusArgs({ configFile, dataDir: path.join(dir, 'data'), listenAddress }),
    { stdio: ['ignore', log, log] },
  );
  closeSync(log); // the child has its own copy
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  const logTail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const api = new PrometheusApi(`http://${listenAddress}`);
  const stop = async () => {
    if (exited === undefined) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (exited === undefined) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (exited !== undefined) return; // stop polling: reported below
        await api.ready();
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  } catch (err) {
    await stop();
    throw new Error(`Prometheus did not become ready: ${(err as Error).message}\n${logTail()}`);
  }
  if (exited !== undefined) {
    const tail = logTail();
    await stop();
    throw new Error(`Prometheus ${exited} at start:\n${tail}`);
  }
  return { api, configFile, logTail, stop };
}

/** Runs promtool with `args` (and `input` on stdin); returns exit status and everything it printed. */
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const { promtool: binary } = ensurePrometheus();
  const result = spawnSync(binary, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}
