import path from 'node:path';
import { parse } from 'yaml';
import {
  type PrometheusConfig,
  readCommittedConfig,
  renderLocalConfig,
  SERVICE_JOBS,
} from './prometheus-config';

describe('dashboards/prometheus.yml', () => {
  const committed = readCommittedConfig();

  it('has one job per service at its compose address and port, plus Prometheus itself', () => {
    const targets = Object.fromEntries(
      (committed.scrape_configs ?? []).map((job) => [
        job.job_name,
        job.static_configs?.flatMap((s) => s.targets),
      ]),
    );
    expect(targets).toEqual({
      'query-api': ['query-api:8080'],
      'order-service': ['order-service:8081'],
      'payment-service': ['payment-service:8082'],
      'inventory-service': ['inventory-service:8083'],
      'delivery-service': ['delivery-service:8084'],
      'webhook-service': ['webhook-service:8085'],
      prometheus: ['localhost:9090'],
    });
  });

  it('loads alerts.yml next to it (where docker-compose mounts it)', () => {
    expect(committed.rule_files?.map((f) => path.posix.resolve('/etc/prometheus', f))).toEqual([
      '/etc/prometheus/alerts.yml',
    ]);
  });
});

describe('renderLocalConfig', () => {
  const committed = readCommittedConfig();
  const render = (overrides: Partial<Parameters<typeof renderLocalConfig>[1]> = {}) =>
    parse(
      renderLocalConfig(committed, {
        selfAddress: '127.0.0.1:9090',
        scrapeInterval: '15s',
        evaluationInterval: '15s',
        ruleFiles: ['/repo/dashboards/alerts.yml'],
        ...overrides,
      }),
    ) as PrometheusConfig;

  it('points every service job at 127.0.0.1 with its port and loads the rules by absolute path', () => {
    const config = render();
    const targets = Object.fromEntries(
      (config.scrape_configs ?? []).map((job) => [
        job.job_name,
        job.static_configs?.flatMap((s) => s.targets),
      ]),
    );
    expect(targets['order-service']).toEqual(['127.0.0.1:8081']);
    expect(targets['query-api']).toEqual(['127.0.0.1:8080']);
    expect(targets.prometheus).toEqual(['127.0.0.1:9090']);
    expect(config.rule_files).toEqual(['/repo/dashboards/alerts.yml']);
    expect(config.global).toMatchObject({
      scrape_interval: '15s',
      scrape_timeout: '10s',
      evaluation_interval: '15s',
    });
  });

  it('uses given addresses, and keeps the scrape timeout within a short interval', () => {
    const config = render({
      serviceAddresses: { 'payment-service': '10.0.0.5:9000' },
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    });
    const payment = config.scrape_configs?.find((j) => j.job_name === 'payment-service');
    expect(payment?.static_configs?.[0]?.targets).toEqual(['10.0.0.5:9000']);
    expect(config.global).toMatchObject({ scrape_interval: '1s', scrape_timeout: '1s' });
  });

  it('refuses a committed file that lost a service job', () => {
    const broken = {
      ...committed,
      scrape_configs: committed.scrape_configs?.filter((j) => j.job_name !== 'query-api'),
    };
    expect(() =>
      renderLocalConfig(broken, {
        selfAddress: 'x:1',
        scrapeInterval: '1s',
        evaluationInterval: '1s',
        ruleFiles: [],
      }),
    ).toThrow('query-api');
    expect(SERVICE_JOBS).toContain('query-api');
  });
});
