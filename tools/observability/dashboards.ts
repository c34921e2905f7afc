/**
 * The Dispatch Grafana dashboards, as data. `pnpm exec tsx tools/observability/build-dashboards.ts`
 * renders them to dashboards/grafana/<uid>.json (a unit test fails when the JSON is out of date).
 * docs/operations.md explains what each panel shows. Metric names: docs/metrics.md.
 *
 * Conventions: select by the `service` label every Dispatch metric carries (not job/instance); numbers
 * every instance reports alike (consumer lag, outbox age, database-wide gauges) are aggregated with
 * max; rates use $__rate_interval. A rare-event counter whose series exist only after the first event
 * ends in `or on() vector(0)`, so the panel shows 0 instead of "No data".
 */

import { deliveryService } from './dashboards/delivery-service';
import { inventoryService } from './dashboards/inventory-service';
import { orderService } from './dashboards/order-service';
import { overview } from './dashboards/overview';
import { paymentService } from './dashboards/payment-service';
import { queryApi } from './dashboards/query-api';
import { webhookService } from './dashboards/webhook-service';
import { buildDashboard, type DashboardSpec, type GrafanaDashboard } from './grafana';

export const DASHBOARD_SPECS: DashboardSpec[] = [
  overview,
  orderService,
  inventoryService,
  paymentService,
  deliveryService,
  webhookService,
  queryApi,
];

/** Each dashboard's file name under dashboards/grafana and its JSON. */
export function renderDashboards(): { file: string; dashboard: GrafanaDashboard }[] {
  return DASHBOARD_SPECS.map((spec) => ({ file: `${spec.uid}.json`, dashboard: buildDashboard(spec) }));
}

export function dashboardFileText(dashboard: GrafanaDashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
