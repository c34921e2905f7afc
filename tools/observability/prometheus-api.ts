/** The few Prometheus HTTP API calls the checks and the launcher need (api/v1, Prometheus 2.x and 3.x). */

export class PrometheusApiError extends Error {
  constructor(
    message: string,
    readonly errorType?: string,
  ) {
    super(message);
    this.name = 'PrometheusApiError';
  }
}

export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface RuleState {
  name: string;
  query: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  state?: string;
}

export interface RuleGroup {
  name: string;
  file: string;
  rules: RuleState[];
}

/** Arguments that start a Prometheus server with a config, a data folder and a listen address. */
export function prometheusArgs(opts: {
  configFile: string;
  dataDir: string;
  listenAddress: string;
}): string[] {
  return [
    `--config.file=${opts.configFile}`,
    `--storage.tsdb.path=${opts.dataDir}`,
    `--web.listen-address=${opts.listenAddress}`,
    // POST /-/reload picks up edits of the rendered config and of dashboards/alerts.yml.
    '--web.enable-lifecycle',
    '--storage.tsdb.retention.time=7d',
  ];
}

export class PrometheusApi {
  constructor(readonly baseUrl: string) {}

  private async get<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(15_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') {
      throw new PrometheusApiError(body.error ?? `HTTP ${response.status}`, body.errorType);
    }
    return body.data;
  }

  /** Resolves when GET /-/ready answers 200; rejects otherwise. */
  async ready(): Promise<void> {
    const response = await fetch(`${this.baseUrl}/-/ready`, { signal: AbortSignal.timeout(3_000) });
    if (response.status !== 200) throw new Error(`${this.baseUrl}/-/ready answered ${response.status}`);
  }

  /** An instant query; throws PrometheusApiError (errorType "bad_data" for a parse error). */
  async query(expr: string): Promise<InstantSample[]> {
    const data = await this.get<{ resultType: string; result: InstantSample[] | [number, string] }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    // A scalar expression (e.g. vector-free arithmetic) answers one value, not a vector.
    if (data.resultType === 'scalar' || data.resultType === 'string') {
      return [{ metric: {}, value: data.result as [number, string] }];
    }
    return data.result as InstantSample[];
  }

  async activeTargets(): Promise<ActiveTarget[]> {
    const data = await this.get<{ activeTargets: ActiveTarget[] }>('/api/v1/targets?state=active');
    return data.activeTargets;
  }

  async ruleGroups(): Promise<RuleGroup[]> {
    const data = await this.get<{ groups: RuleGroup[] }>('/api/v1/rules');
    return data.groups;
  }

  /** Metric names (families) some target exposes, with or without samples. */
  async exposedMetricNames(): Promise<Set<string>> {
    const data = await this.get<{ metric: string }[]>('/api/v1/targets/metadata');
    return new Set(data.map((m) => m.metric));
  }
}
