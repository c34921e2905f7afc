import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCatalogue } from './catalogue';
import { DASHBOARD_SPECS, dashboardFileText, renderDashboards } from './dashboards';
import { DATASOURCE, type GrafanaDashboard, panelQueries } from './grafana';
import { GRAFANA_DIR, SERVICE_JOBS } from './prometheus-config';
import { expandGrafanaVariables, metricFamily, metricNamesIn } from './promql';

const VARIABLES = { rateInterval: '2m', interval: '15s', range: '1h' };

function committedDashboards(): { file: string; dashboard: GrafanaDashboard }[] {
  return readdirSync(GRAFANA_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(path.join(GRAFANA_DIR, file), 'utf8')) as GrafanaDashboard,
    }));
}

describe('Grafana dashboards (dashboards/grafana/*.json)', () => {
  it('are exactly what tools/observability/dashboards.ts renders (run build-dashboards.ts after editing it)', () => {
    const rendered = renderDashboards();
    expect(
      committedDashboards()
        .map((d) => d.file)
        .sort(),
    ).toEqual(rendered.map((r) => r.file).sort());
    for (const { file, dashboard } of rendered) {
      // On failure: pnpm exec tsx tools/observability/build-dashboards.ts
      expect(readFileSync(path.join(GRAFANA_DIR, file), 'utf8')).toBe(dashboardFileText(dashboard));
    }
  });

  it('are an overview plus one dashboard per service, with unique uids and titles', () => {
    const dashboards = committedDashboards().map((d) => d.dashboard);
    const uids = dashboards.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(dashboards.map((d) => d.title)).size).toBe(dashboards.length);
    expect(uids.sort()).toEqual(['dispatch-overview', ...SERVICE_JOBS.map((s) => `dispatch-${s}`)].sort());
    for (const service of SERVICE_JOBS) {
      expect(dashboards.find((d) => d.uid === `dispatch-${service}`)?.tags).toContain(service);
    }
  });

  it('every panel has a description and queries through the datasource variable; ids unique; grid fits', () => {
    const problems: string[] = [];
    for (const { dashboard } of committedDashboards()) {
      const ids = new Set<number>();
      const occupied = new Set<string>();
      for (const panel of dashboard.panels) {
        if (ids.has(panel.id)) problems.push(`${dashboard.title}: duplicate panel id ${panel.id}`);
        ids.add(panel.id);
        const { x, y, w, h } = panel.gridPos;
        if (x < 0 || w < 1 || x + w > 24)
          problems.push(`${dashboard.title} / ${panel.title}: outside the grid`);
        for (let i = x; i < x + w; i++)
          for (let j = y; j < y + h; j++) {
            if (occupied.has(`${i},${j}`)) problems.push(`${dashboard.title} / ${panel.title}: overlaps`);
            occupied.add(`${i},${j}`);
          }
        if (panel.type === 'row') continue;
        if (!panel.description) problems.push(`${dashboard.title} / ${panel.title}: no description`);
        if (!panel.targets?.length) problems.push(`${dashboard.title} / ${panel.title}: no query`);
        for (const t of panel.targets ?? []) {
          if (t.datasource.uid !== DATASOURCE.uid)
            problems.push(`${dashboard.title} / ${panel.title}: datasource`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('queries only catalogued metrics (docs/metrics.md) and only variables Grafana defines', () => {
    const families = new Set(readCatalogue().map((e) => e.name));
    const problems: string[] = [];
    for (const { dashboard } of committedDashboards()) {
      for (const q of panelQueries(dashboard)) {
        let expr: string;
        try {
          expr = expandGrafanaVariables(q.expr, VARIABLES);
        } catch (err) {
          problems.push(`${q.dashboard} / ${q.panel}: ${(err as Error).message}`);
          continue;
        }
        for (const name of metricNamesIn(expr)) {
          if (name !== 'up' && !families.has(metricFamily(name, families)))
            problems.push(`${q.dashboard} / ${q.panel}: ${name} is not in docs/metrics.md`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the overview shows outcomes, e2e latency, the funnel, lag, DLQ, outbox age and error rates', () => {
    const overview = renderDashboards().find((d) => d.dashboard.uid === 'dispatch-overview')!.dashboard;
    const exprs = panelQueries(overview).map((q) => q.expr);
    const uses = (pattern: RegExp) => exprs.some((e) => pattern.test(e));
    expect(uses(/sum by \(status\) \(rate\(order_end_to_end_latency_seconds_count/)).toBe(true);
    for (const q of ['0.5', '0.95', '0.99'])
      expect(uses(new RegExp(`histogram_quantile\\(${q}, .*order_end_to_end_latency_seconds_bucket`))).toBe(
        true,
      );
    for (const metric of [
      'orders_created_total',
      'inventory_reservations_total',
      'payment_processed_total',
      'delivery_assignments_total',
      'delivery_completed_total',
      'kafka_consumer_lag_messages',
      'kafka_dlq_messages_total',
      'outbox_oldest_unsent_age_seconds',
      'saga_stage_latency_seconds_bucket',
      'read_model_apply_lag_seconds_bucket',
      'saga_deadline_expired_total',
    ])
      expect(uses(new RegExp(metric))).toBe(true);
    expect(uses(/status_code=~"5\.\."/)).toBe(true);
    expect(DASHBOARD_SPECS.length).toBe(7);
  });
});
