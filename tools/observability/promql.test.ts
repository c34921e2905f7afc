import { expandGrafanaVariables, metricFamily, metricNamesIn } from './promql';

describe('metricNamesIn', () => {
  it.each([
    ['up', ['up']],
    ['up{job="order-service"} == 0', ['up']],
    [
      'sum by (service) (rate(http_request_duration_seconds_count{status_code=~"5.."}[5m]))',
      ['http_request_duration_seconds_count'],
    ],
    [
      'histogram_quantile(0.99, sum by (le, status) (rate(order_end_to_end_latency_seconds_bucket[10m])))',
      ['order_end_to_end_latency_seconds_bucket'],
    ],
    [
      'sum(rate(payment_failed_total[15m])) / (sum(rate(payment_failed_total[15m])) + sum(rate(payment_processed_total[15m])))',
      ['payment_failed_total', 'payment_processed_total'],
    ],
    ['sum(rate(x_total[5m])) by (group) or vector(0)', ['x_total']],
    [
      'max without (instance) (delta(kafka_consumer_lag_messages[10m] offset 5m)) > 1e3',
      ['kafka_consumer_lag_messages'],
    ],
    ['label_replace(a_total, "dst", "$1", "src", "(by|on).*")', ['a_total']],
    ['a * on (service) group_left (version) nodejs_version_info', ['a', 'nodejs_version_info']],
    ['sum(increase(orders_created_total[1h:1m]))', ['orders_created_total']],
  ])('%s', (expr, names) => {
    expect(metricNamesIn(expr)).toEqual(names);
  });
});

describe('expandGrafanaVariables', () => {
  const values = { rateInterval: '2m', interval: '15s', range: '10m' };

  it('replaces the built-in variables in both spellings', () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
      expandGrafanaVariables('rate(a[$__rate_interval]) + increase(b[${__range}]) + c[$__interval]', values),
    ).toBe('rate(a[2m]) + increase(b[10m]) + c[15s]');
  });

  it('rejects a variable it does not know, naming it', () => {
    expect(() => expandGrafanaVariables('rate(a{service="$service"}[1m])', values)).toThrow('$service');
  });
});

describe('metricFamily', () => {
  const families = new Set(['http_request_duration_seconds', 'orders_created_total']);
  it('maps histogram series to their family and leaves other names alone', () => {
    expect(metricFamily('http_request_duration_seconds_bucket', families)).toBe(
      'http_request_duration_seconds',
    );
    expect(metricFamily('orders_created_total', families)).toBe('orders_created_total');
    expect(metricFamily('unknown_count', families)).toBe('unknown_count');
  });
});
