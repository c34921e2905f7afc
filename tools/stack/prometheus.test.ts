import { parse } from 'yaml';
import { parseArgs } from './args';
import { stackPaths } from './paths';
import { prometheusConfigFile, renderStackPrometheusConfig } from './prometheus';

describe('up --with-prometheus', () => {
  it('is parsed alone or with --infra-only; other flags are still refused', () => {
    expect(parseArgs(['up', '--with-prometheus'])).toEqual({
      name: 'up',
      infraOnly: false,
      withPrometheus: true,
    });
    expect(parseArgs(['up', '--infra-only', '--with-prometheus'])).toEqual({
      name: 'up',
      infraOnly: true,
      withPrometheus: true,
    });
    expect(parseArgs(['up'])).toEqual({ name: 'up', infraOnly: false });
    expect(() => parseArgs(['up', '--prometheus'])).toThrow(/takes only --infra-only and --with-prometheus/);
  });

  it('renders .stack/conf/prometheus/prometheus.yml: local targets, the repository alert rules', () => {
    const paths = stackPaths('/repo');
    expect(prometheusConfigFile(paths)).toBe('/repo/.stack/conf/prometheus/prometheus.yml');
    const config = parse(renderStackPrometheusConfig(stackPaths())) as {
      rule_files: string[];
      global: Record<string, string>;
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual([`${stackPaths().repoRoot}/dashboards/alerts.yml`]);
    expect(config.global.scrape_interval).toBe('15s');
    const targets = config.scrape_configs.flatMap((j) => j.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(
      [
        '127.0.0.1:8080',
        '127.0.0.1:8081',
        '127.0.0.1:8082',
        '127.0.0.1:8083',
        '127.0.0.1:8084',
        '127.0.0.1:8085',
        '127.0.0.1:9090',
      ].sort(),
    );
  });
});
