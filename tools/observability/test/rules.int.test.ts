import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ALERTS_FILE,
  ALERTS_TEST_FILE,
  PROMETHEUS_CONFIG_FILE,
  readCommittedConfig,
  renderLocalConfig,
} from '../prometheus-config';
import { promtool } from './support/prometheus';

/** promtool (installed on demand) against the committed alert rules and scrape configuration. */
describe('alert rules and Prometheus configuration (promtool)', () => {
  it('dashboards/alerts.yml passes `promtool check rules` without warnings', () => {
    const { status, output } = promtool(['check', 'rules', ALERTS_FILE]);
    expect({ status, output }).toEqual({
      status: 0,
      output: expect.stringMatching(/SUCCESS: \d+ rules found$/),
    });
    expect(output).not.toMatch(/warn/i);
  });

  it('dashboards/alerts.test.yml: every unit test passes (`promtool test rules`)', () => {
    const { status, output } = promtool(['test', 'rules', ALERTS_TEST_FILE]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('a broken expectation makes `promtool test rules` fail (the tests can fail)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alerts-test-'));
    try {
      const broken = path.join(dir, 'alerts.test.yml');
      writeFileSync(
        broken,
        readFileSync(ALERTS_TEST_FILE, 'utf8')
          .replace('rule_files:\n  - alerts.yml', `rule_files:\n  - ${ALERTS_FILE}`)
          .replace('severity: critical', 'severity: info'),
      );
      const { status, output } = promtool(['test', 'rules', broken]);
      expect(status).not.toBe(0);
      expect(output).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dashboards/prometheus.yml (docker-compose) and its local rendering pass `promtool check config`', () => {
    const committed = promtool(['check', 'config', PROMETHEUS_CONFIG_FILE]);
    expect(committed.status).toBe(0);
    expect(committed.output).toContain('SUCCESS');

    const dir = mkdtempSync(path.join(tmpdir(), 'prometheus-config-'));
    try {
      const rendered = path.join(dir, 'prometheus.yml');
      writeFileSync(
        rendered,
        renderLocalConfig(readCommittedConfig(), {
          selfAddress: '127.0.0.1:9090',
          scrapeInterval: '15s',
          evaluationInterval: '15s',
          ruleFiles: [ALERTS_FILE],
        }),
      );
      const local = promtool(['check', 'config', rendered]);
      expect(local.status).toBe(0);
      expect(local.output).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
