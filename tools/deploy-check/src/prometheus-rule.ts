import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { ALERTS_FILE, PROMETHEUS_RULE_FILE } from './paths';

/**
 * The Prometheus Operator's PrometheusRule for k8s/components/monitoring, built from
 * dashboards/alerts.yml (a plain Prometheus rule file: `groups: [...]`). The groups are copied
 * unchanged, so the compose Prometheus and the cluster's evaluate the same rules.
 */
export function buildPrometheusRule(alertsYaml: string): Record<string, unknown> {
  const rules = parse(alertsYaml) as { groups?: unknown } | null;
  if (!rules || !Array.isArray(rules.groups) || rules.groups.length === 0) {
    throw new Error('dashboards/alerts.yml has no `groups:` list (expected a Prometheus rule file)');
  }
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'dispatch',
      labels: { 'app.kubernetes.io/name': 'dispatch', 'app.kubernetes.io/component': 'monitoring' },
    },
    spec: { groups: rules.groups },
  };
}

export const GENERATED_HEADER =
  '# GENERATED from dashboards/alerts.yml by `pnpm exec tsx tools/deploy-check/src/cli.ts prometheus-rule`.\n' +
  '# Do not edit: change dashboards/alerts.yml and run the command again (a test compares the two).\n';

export function renderPrometheusRule(alertsYaml: string): string {
  return GENERATED_HEADER + stringify(buildPrometheusRule(alertsYaml), { lineWidth: 0 });
}

/** Writes k8s/components/monitoring/prometheusrule.yaml; returns its path. */
export function writePrometheusRule(): string {
  writeFileSync(PROMETHEUS_RULE_FILE, renderPrometheusRule(readFileSync(ALERTS_FILE, 'utf8')));
  return PROMETHEUS_RULE_FILE;
}
