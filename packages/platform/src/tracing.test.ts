import { isProbeOrScrape, tracingEnabled } from './tracing';

describe('tracingEnabled', () => {
  it('is off without OTEL_* variables', () => {
    expect(tracingEnabled({})).toBe(false);
  });

  it('is on with an OTLP endpoint or the otlp exporter', () => {
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
      true,
    );
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'console, otlp' })).toBe(true);
  });

  it('stays off when the exporter is none or the SDK is disabled, whatever else is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingEnabled({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingEnabled({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });
});

describe('isProbeOrScrape', () => {
  it.each(['/health/ready', '/health/live', '/metrics', '/metrics?x=1'])('skips %s', (url) => {
    expect(isProbeOrScrape(url)).toBe(true);
  });

  it.each(['/api/orders', '/api/orders/health', '/healthz', '/metrics/extra', undefined])(
    'traces %s',
    (url) => {
      expect(isProbeOrScrape(url)).toBe(false);
    },
  );
});
