import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { KubernetesValidator } from './kubernetes-schemas';
import { ALERTS_FILE, PROMETHEUS_RULE_FILE } from './paths';
import { buildPrometheusRule, GENERATED_HEADER, renderPrometheusRule } from './prometheus-rule';

const SAMPLE_ALERTS = `groups:
  - name: dispatch-sample
    rules:
      - alert: ServiceDown
        expr: up{job="dispatch"} == 0
        for: 1m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.instance }} is down" }
`;

describe('buildPrometheusRule', () => {
  test('wraps the rule groups unchanged in a valid PrometheusRule', () => {
    const rule = buildPrometheusRule(SAMPLE_ALERTS);
    expect((rule.spec as { groups: unknown }).groups).toEqual(parse(SAMPLE_ALERTS).groups);
    expect(new KubernetesValidator().validate(rule as never)).toEqual([]);
  });

  test('refuses a file without rule groups', () => {
    expect(() => buildPrometheusRule('scrape_configs: []\n')).toThrow(/no `groups:` list/);
  });

  test('renders with a header saying where it comes from', () => {
    expect(renderPrometheusRule(SAMPLE_ALERTS).startsWith(GENERATED_HEADER)).toBe(true);
  });
});

test('k8s/components/monitoring/prometheusrule.yaml is generated from the current dashboards/alerts.yml', () => {
  if (!existsSync(ALERTS_FILE))
    throw new Error(`${ALERTS_FILE} is missing (the dashboards work; contract in docs/deploy.md)`);
  const expected = renderPrometheusRule(readFileSync(ALERTS_FILE, 'utf8'));
  const actual = existsSync(PROMETHEUS_RULE_FILE) ? readFileSync(PROMETHEUS_RULE_FILE, 'utf8') : '(missing)';
  // On failure: pnpm exec tsx tools/deploy-check/src/cli.ts prometheus-rule
  expect(actual).toBe(expected);
});
