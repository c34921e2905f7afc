/**
 * Renders tools/observability/dashboards.ts to dashboards/grafana/<uid>.json.
 *   pnpm exec tsx tools/observability/build-dashboards.ts
 * Removes JSON files there that no dashboard produces any more.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dashboardFileText, renderDashboards } from './dashboards';
import { GRAFANA_DIR } from './prometheus-config';

const rendered = renderDashboards();
const wanted = new Set(rendered.map((r) => r.file));
for (const file of readdirSync(GRAFANA_DIR)) {
  if (file.endsWith('.json') && !wanted.has(file)) {
    rmSync(path.join(GRAFANA_DIR, file));
    process.stdout.write(`removed ${file}\n`);
  }
}
for (const { file, dashboard } of rendered) {
  writeFileSync(path.join(GRAFANA_DIR, file), dashboardFileText(dashboard));
  process.stdout.write(`wrote dashboards/grafana/${file} (${dashboard.panels.length} panels)\n`);
}
