import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { readCatalogue } from './catalogue';
import { ALERTS_FILE, ALERTS_TEST_FILE, REPO_ROOT } from './prometheus-config';
import { metricFamily, metricNamesIn } from './promql';

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (
  parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] }
).groups
  .flatMap((g) => g.rules)
  .filter((r): r is AlertRule & { alert: string } => r.alert !== undefined);

const OPERATIONS_DOC = path.join(REPO_ROOT, 'docs', 'operations.md');

/** GitHub's heading anchor: lower case, spaces to dashes, punctuation dropped. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

describe('dashboards/alerts.yml', () => {
  it('has the alerts the operations issue asks for', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'DeadLettersReceived',
        'DispatchHttpServerErrors',
        'DispatchTargetDown',
        'KafkaConsumerBlocked',
        'KafkaConsumerLagGrowing',
        'KafkaConsumerLagUnknown',
        'OrderEndToEndLatencyOverSLO',
        'OrdersStuck',
        'OutboxOldestRowAgeHigh',
        'PaymentCircuitBreakerOpen',
        'PaymentFailureRatioHigh',
        'ReadModelApplyLagHigh',
        'WebhookDeliveryBacklog',
        'WebhookEndpointDisabled',
      ].sort(),
    );
  });

  it('every alert has a severity, a summary, a description and a runbook section in docs/operations.md', () => {
    const anchors = new Set(
      readFileSync(OPERATIONS_DOC, 'utf8')
        .split('\n')
        .filter((line) => /^#{2,4} /.test(line))
        .map((line) => anchor(line.replace(/^#+ /, ''))),
    );
    const problems = rules.flatMap((r) => {
      const out: string[] = [];
      if (!['critical', 'warning'].includes(r.labels?.severity ?? '')) out.push(`${r.alert}: severity`);
      if (!r.annotations?.summary || !r.annotations.description) out.push(`${r.alert}: summary/description`);
      const runbook = r.annotations?.runbook ?? '';
      const [file, hash] = runbook.split('#');
      if (file !== 'docs/operations.md' || !hash || !anchors.has(hash) || hash !== r.alert.toLowerCase())
        out.push(
          `${r.alert}: runbook "${runbook}" must be docs/operations.md#${r.alert.toLowerCase()} (a heading there)`,
        );
      return out;
    });
    expect(problems).toEqual([]);
  });

  it('uses only catalogued metrics (docs/metrics.md), or up', () => {
    const families = new Set(readCatalogue().map((e) => e.name));
    const unknown = rules.flatMap((r) =>
      metricNamesIn(r.expr)
        .filter((name) => name !== 'up' && !families.has(metricFamily(name, families)))
        .map((name) => `${r.alert}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('dashboards/alerts.test.yml has, for every alert, a case where it fires and one where it must not', () => {
    const tests = (
      parse(readFileSync(ALERTS_TEST_FILE, 'utf8')) as {
        rule_files: string[];
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      }
    ).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    const missing = rules.flatMap((r) => {
      const mine = cases.filter((c) => c.alertname === r.alert);
      const out: string[] = [];
      if (!mine.some((c) => (c.exp_alerts ?? []).length > 0)) out.push(`${r.alert}: no firing case`);
      if (!mine.some((c) => (c.exp_alerts ?? []).length === 0)) out.push(`${r.alert}: no not-firing case`);
      return out;
    });
    expect(missing).toEqual([]);
  });
});
