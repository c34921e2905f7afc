import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/** The repository root (this file is tools/observability/prometheus-config.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DASHBOARDS_DIR = path.join(REPO_ROOT, 'dashboards');
export const PROMETHEUS_CONFIG_FILE = path.join(DASHBOARDS_DIR, 'prometheus.yml');
export const ALERTS_FILE = path.join(DASHBOARDS_DIR, 'alerts.yml');
export const ALERTS_TEST_FILE = path.join(DASHBOARDS_DIR, 'alerts.test.yml');
export const GRAFANA_DIR = path.join(DASHBOARDS_DIR, 'grafana');

/** The jobs of dashboards/prometheus.yml that scrape a Dispatch service (job name = service name). */
export const SERVICE_JOBS = [
  'query-api',
  'order-service',
  'payment-service',
  'inventory-service',
  'delivery-service',
  'webhook-service',
] as const;

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets?: string[]; labels?: Record<string, string> }[];
  [key: string]: unknown;
}

export interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  scrape_configs?: ScrapeConfig[];
  [key: string]: unknown;
}

export interface LocalConfigOptions {
  /** host:port of each service by job name; default 127.0.0.1 with the service's port from the committed file. */
  serviceAddresses?: Partial<Record<string, string>>;
  /** Where this Prometheus listens, for its own job. */
  selfAddress: string;
  /** e.g. "15s" (users) or "1s" (tests). */
  scrapeInterval: string;
  evaluationInterval: string;
  /** Absolute paths of rule files (the committed alerts.yml, so edits apply on the next reload). */
  ruleFiles: string[];
}

export function readCommittedConfig(file = PROMETHEUS_CONFIG_FILE): PrometheusConfig {
  return parse(readFileSync(file, 'utf8')) as PrometheusConfig;
}

/**
 * The committed scrape configuration (compose addresses) turned into one for a Prometheus on this
 * machine: same jobs, the services at 127.0.0.1 (or the given addresses), rule files by absolute path.
 */
export function renderLocalConfig(committed: PrometheusConfig, opts: LocalConfigOptions): string {
  const jobs = committed.scrape_configs ?? [];
  const missing = SERVICE_JOBS.filter((job) => !jobs.some((j) => j.job_name === job));
  if (missing.length > 0) throw new Error(`dashboards/prometheus.yml has no job for: ${missing.join(', ')}`);
  const timeout = shorter(opts.scrapeInterval, '10s');
  const config: PrometheusConfig = {
    ...committed,
    global: {
      ...committed.global,
      scrape_interval: opts.scrapeInterval,
      scrape_timeout: timeout,
      evaluation_interval: opts.evaluationInterval,
    },
    rule_files: opts.ruleFiles,
    scrape_configs: jobs.map((job) => ({
      ...job,
      static_configs: (job.static_configs ?? []).map((sc) => ({
        ...sc,
        targets: (sc.targets ?? []).map((target) => localTarget(job.job_name, target, opts)),
      })),
    })),
  };
  return `# Rendered from dashboards/prometheus.yml by tools/observability/prometheus-config.ts; do not edit.\n${stringify(config)}`;
}

function localTarget(job: string, target: string, opts: LocalConfigOptions): string {
  if (job === 'prometheus') return opts.selfAddress;
  const given = opts.serviceAddresses?.[job];
  if (given) return given;
  const port = target.slice(target.lastIndexOf(':') + 1);
  return `127.0.0.1:${port}`;
}

/** The shorter of two Prometheus durations given in seconds ("1s", "15s"): a timeout may not exceed the interval. */
function shorter(a: string, b: string): string {
  const seconds = (d: string) => {
    const m = /^(\d+)s$/.exec(d);
    if (!m) throw new Error(`expected a duration in seconds like "15s", got "${d}"`);
    return Number(m[1]);
  };
  return seconds(a) <= seconds(b) ? a : b;
}
