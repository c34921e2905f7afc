import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTracing, type TracingHandle, tracingEnabled } from './tracing';
import { currentTraceparent, withConsumerSpan } from './tracing-context';

describe('trace context across Kafka', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle | undefined;
  beforeAll(() => {
    tracing = startTracing('test-service', { exporter });
  });
  afterAll(() => tracing?.shutdown());

  it('continues the trace carried in the message headers and hands it on to the next events', async () => {
    const upstream = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const handedOn = await withConsumerSpan(
      'raw.order-events',
      'order.created',
      { traceparent: upstream },
      async () => currentTraceparent(),
    );
    expect(handedOn).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(handedOn).not.toBe(upstream); // a child span, not the upstream one

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('raw.order-events process');
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('starts a new trace when the message carries none, and records a failing handler', async () => {
    exporter.reset();
    await expect(
      withConsumerSpan('raw.payment-events', 'payment.failed', {}, async () => {
        expect(trace.getActiveSpan()).toBeDefined();
        throw new Error('db down');
      }),
    ).rejects.toThrow('db down');
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.status.code).toBe(2); // ERROR
    expect(span?.events.map((e) => e.name)).toContain('exception');
  });

  it('is off unless the OTEL_* variables ask for export', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(
      tracingEnabled({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    ).toBe(false);
    expect(tracingEnabled({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });
});
