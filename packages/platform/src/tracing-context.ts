// Trace context across Kafka. Only the OpenTelemetry API (a no-op until a service starts the SDK
// with startTracing from '@dispatch/platform/tracing'), so it costs nothing when tracing is off.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const TRACER_NAME = '@dispatch/platform';

/** The W3C `traceparent` of the active span, to store with outgoing events (the outbox). */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs `fn` in a consumer span whose parent is the trace context carried in the message headers,
 * so a saga step joins the trace of the step that caused it.
 */
export async function withConsumerSpan<T>(
  topic: string,
  eventType: string,
  headers: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.operation.type': 'process',
        'dispatch.event_type': eventType,
      },
    },
    parent,
    async (span: Span) => {
      try {
        return await fn();
      } catch (err) {
        span.recordException(err instanceof Error ? err : new Error(String(err)));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * withConsumerSpan for every message of a batch handled in one call: each message gets its consumer
 * span in its own trace, and `fn` runs inside the last one (so the store's client spans of the whole
 * call hang under that message's span). `fn` gets each message's traceparent (by index), for what it
 * emits on behalf of one message rather than the batch.
 */
export function withConsumerSpans<T>(
  messages: readonly { topic: string; headers: Record<string, string>; event: { eventType: string } }[],
  fn: (traceparents: readonly (string | undefined)[]) => Promise<T>,
): Promise<T> {
  const traceparents: (string | undefined)[] = [];
  return messages.reduceRight<() => Promise<T>>(
    (inner, m, i) => () =>
      withConsumerSpan(m.topic, m.event.eventType, m.headers, () => {
        traceparents[i] = currentTraceparent();
        return inner();
      }),
    () => fn(traceparents),
  )();
}

let tracingShutdown: (() => Promise<void>) | undefined;

/** Called by startTracing, so graceful shutdown can flush spans without importing the SDK. */
export function registerTracingShutdown(shutdown: () => Promise<void>): void {
  tracingShutdown = shutdown;
}

/** Flushes and stops trace export, if tracing was started. */
export async function shutdownTracing(): Promise<void> {
  await tracingShutdown?.();
}
