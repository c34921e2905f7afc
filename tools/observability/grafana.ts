/**
 * A small builder for Grafana dashboard JSON (schema 39, Grafana 10-12): the Dispatch dashboards are
 * written as data in dashboards.ts and rendered to dashboards/grafana/*.json by build-dashboards.ts,
 * so every panel has the same datasource, layout rules and legend settings.
 */

/** Every panel and query uses the dashboard's `datasource` variable (default: the default Prometheus). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Query {
  expr: string;
  /** Grafana legend, e.g. "{{service}}". */
  legend?: string;
}

export type PanelKind = 'timeseries' | 'stat' | 'bargauge';

export interface PanelSpec {
  title: string;
  description: string;
  kind?: PanelKind;
  /** Grafana unit id: ops, reqps, s, bytes, percentunit, short, none. */
  unit?: string;
  queries: Query[];
  /** Columns out of 24. Default 12 for time series, 6 for stats. */
  width?: number;
  /** Rows of 30 px. Default 8 (stats 5). */
  height?: number;
  /** Stack the series (time series). */
  stacked?: boolean;
  /** Stat/bar gauge: red from this value on. */
  redFrom?: number;
  /** Stat panels: value-to-text mappings (e.g. breaker states). */
  valueText?: Record<string, string>;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  rows: RowSpec[];
}

export interface GrafanaTarget {
  refId: string;
  datasource: typeof DATASOURCE;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: typeof DATASOURCE;
  targets?: GrafanaTarget[];
  collapsed?: boolean;
  panels?: GrafanaPanel[];
  fieldConfig?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  panels: GrafanaPanel[];
  [key: string]: unknown;
}

const GRID_WIDTH = 24;

function thresholds(redFrom: number | undefined) {
  const steps: { color: string; value: number | null }[] = [{ color: 'green', value: null }];
  if (redFrom !== undefined) steps.push({ color: 'red', value: redFrom });
  return { mode: 'absolute', steps };
}

function targets(queries: Query[], instant: boolean): GrafanaTarget[] {
  return queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DATASOURCE,
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !instant,
    instant,
  }));
}

function valueMappings(valueText: Record<string, string> | undefined) {
  if (!valueText) return [];
  return [
    {
      type: 'value',
      options: Object.fromEntries(
        Object.entries(valueText).map(([value, text], index) => [value, { text, index }]),
      ),
    },
  ];
}

function panelJson(spec: PanelSpec, id: number, gridPos: GrafanaPanel['gridPos']): GrafanaPanel {
  const kind = spec.kind ?? 'timeseries';
  const base = {
    id,
    type: kind,
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DATASOURCE,
  };
  const defaults = {
    unit: spec.unit ?? 'short',
    thresholds: thresholds(spec.redFrom),
    mappings: valueMappings(spec.valueText),
  };
  if (kind === 'stat') {
    return {
      ...base,
      targets: targets(spec.queries, false),
      fieldConfig: { defaults: { ...defaults, color: { mode: 'thresholds' } }, overrides: [] },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'area',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
      },
    };
  }
  if (kind === 'bargauge') {
    return {
      ...base,
      targets: targets(spec.queries, true),
      fieldConfig: { defaults: { ...defaults, min: 0, color: { mode: 'thresholds' } }, overrides: [] },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        orientation: 'horizontal',
        displayMode: 'basic',
        showUnfilled: true,
        valueMode: 'color',
      },
    };
  }
  return {
    ...base,
    targets: targets(spec.queries, false),
    fieldConfig: {
      defaults: {
        ...defaults,
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: spec.stacked ? 30 : 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: spec.stacked ? 'normal' : 'none', group: 'A' },
        },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

/** Lays the rows out top to bottom and each row's panels left to right, wrapping at 24 columns. */
export function buildDashboard(spec: DashboardSpec): GrafanaDashboard {
  const panels: GrafanaPanel[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      panels: [],
      gridPos: { h: 1, w: GRID_WIDTH, x: 0, y },
    });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const panel of row.panels) {
      const kind = panel.kind ?? 'timeseries';
      const w = panel.width ?? (kind === 'stat' ? 6 : 12);
      const h = panel.height ?? (kind === 'stat' ? 5 : 8);
      if (x + w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push(panelJson(panel, id++, { h, w, x, y }));
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    annotations: { list: [] },
    links: [{ type: 'dashboards', tags: ['dispatch'], asDropdown: true, title: 'Dispatch dashboards' }],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          options: [],
          includeAll: false,
          multi: false,
          regex: '',
          skipUrlSync: false,
        },
      ],
    },
    panels,
  };
}

/** Every query of every panel, with where it comes from (rows included). */
export function panelQueries(
  dashboard: Pick<GrafanaDashboard, 'title' | 'panels'>,
): { dashboard: string; panel: string; refId: string; expr: string }[] {
  const flat = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return flat.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      dashboard: dashboard.title,
      panel: p.title,
      refId: t.refId,
      expr: t.expr,
    })),
  );
}
