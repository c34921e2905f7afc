import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, freePort } from '@dispatch/testkit';
import { down } from '../../stack/commands/down';
import { stackPaths } from '../../stack/paths';
import { isRunning, readPidFile, readStarted } from '../../stack/processes';
import { prometheusConfigFile, startStackPrometheus } from '../../stack/prometheus';
import { PrometheusApi } from '../prometheus-api';
import { ALERTS_FILE, PROMETHEUS_CONFIG_FILE } from '../prometheus-config';

/**
 * What `pnpm stack up --with-prometheus` and `pnpm stack down` do with Prometheus, in a scratch
 * checkout (its own .stack and a free port) so the real stack is not touched: start detached,
 * record it for `down`, load the rules, reuse it on a second `up`, and stop it on `down`.
 */
describe('pnpm stack: the local Prometheus', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dispatch-stack-prometheus-'));
  const paths = stackPaths(root);

  beforeAll(() => {
    mkdirSync(path.join(root, 'dashboards'), { recursive: true });
    copyFileSync(PROMETHEUS_CONFIG_FILE, path.join(root, 'dashboards', 'prometheus.yml'));
    copyFileSync(ALERTS_FILE, path.join(root, 'dashboards', 'alerts.yml'));
  });

  afterAll(async () => {
    // Whatever failed, leave no Prometheus behind (down stops only what this scratch checkout started).
    await down(paths, { servicesOnly: false }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('starts with the rules loaded, is reused by a second up, and is stopped by down', async () => {
    const port = await freePort();
    const url = await startStackPrometheus(paths, port);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const pid = readPidFile(paths.pidFile('prometheus'));
    expect(pid).toBeDefined();
    expect(readStarted(paths.startedFile).prometheus).toMatchObject({
      kind: 'process',
      pid,
      marker: prometheusConfigFile(paths),
    });
    expect(existsSync(paths.logFile('prometheus'))).toBe(true);

    const api = new PrometheusApi(url);
    const rules = (await api.ruleGroups()).flatMap((g) => g.rules);
    expect(rules.filter((r) => r.type === 'alerting').length).toBeGreaterThanOrEqual(10);
    await eventually(
      async () => {
        const targets = (await api.activeTargets()).map((t) => t.scrapeUrl);
        expect(targets).toContain('http://127.0.0.1:8081/metrics');
        expect(targets).toContain(`http://127.0.0.1:${port}/metrics`);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    // A second `up --with-prometheus` keeps the running one.
    await startStackPrometheus(paths, port);
    expect(readPidFile(paths.pidFile('prometheus'))).toBe(pid);

    await down(paths, { servicesOnly: false });
    await eventually(() => expect(isRunning(pid!, prometheusConfigFile(paths))).toBe(false), {
      timeoutMs: 20_000,
    });
    expect(readStarted(paths.startedFile).prometheus).toBeUndefined();
    expect(existsSync(paths.pidFile('prometheus'))).toBe(false);
  }, 180_000);
});
