// OpenTelemetry for Dispatch services. Off by default; on when an OTLP endpoint (or exporter) is
// configured through the standard OTEL_* variables. This module imports nothing but OpenTelemetry,
// because instrumentations patch pg, ioredis, express, http and cassandra-driver when those are
// first required: a service imports it (through its src/instrument.ts) before anything else.
// That works because the services run as CommonJS (no "type": "module"): tsc (and tsx, for tests and
// scripts) compiles each import to a require() in source order, and require-in-the-middle sees every one.
// Under native ESM the patching would need import-in-the-middle's loader hook (`--import` of a hook).
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { CassandraDriverInstrumentation } from '@opentelemetry/instrumentation-cassandra-driver';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { registerTracingShutdown } from './tracing-context';
import { batchLimitsFromEnv, samplerFromEnv } from './tracing-env';

export interface TracingHandle {
  /** Flushes buffered spans and stops exporting. */
  shutdown(): Promise<void>;
}

/** True when the standard OTEL_* variables ask for trace export. */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter) return exporter.split(',').some((e) => e.trim() === 'otlp');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts tracing for a service: W3C trace context, HTTP/express/pg/ioredis/cassandra-driver spans,
 * and the OTLP/HTTP exporter (configured by OTEL_EXPORTER_OTLP_*). Pass `exporter` to export
 * elsewhere (a test's in-memory exporter). Returns undefined when tracing is off.
 */
export function startTracing(
  serviceName: string,
  opts: { exporter?: SpanExporter; env?: NodeJS.ProcessEnv } = {},
): TracingHandle | undefined {
  const env = opts.env ?? process.env;
  if (!opts.exporter && !tracingEnabled(env)) return undefined;
  const processor: SpanProcessor = opts.exporter
    ? new SimpleSpanProcessor({ exporter: opts.exporter })
    : new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...batchLimitsFromEnv(env) });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? serviceName }),
    sampler: samplerFromEnv(env),
    spanProcessors: [processor],
  });
  // What NodeTracerProvider.register() did up to SDK 2.x: async-context propagation inside the
  // process, W3C trace context and baggage across it, and the provider as the global one.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Readiness probes and metric scrapes every few seconds would be most traces and say nothing.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => isProbeOrScrape(req.url) }),
      new ExpressInstrumentation(),
      // Database calls only inside a request or a consumed event: the outbox relay polls every
      // second and the migrations run at start, and a root trace for each would drown the sagas.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new CassandraDriverInstrumentation(),
    ],
  });
  const handle: TracingHandle = {
    shutdown: async () => {
      unregister();
      await provider.shutdown();
    },
  };
  registerTracingShutdown(handle.shutdown);
  return handle;
}

/** GET /health/live, /health/ready and /metrics: polled by the platform, not worth a trace. */
export function isProbeOrScrape(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0] ?? '';
  return path === '/metrics' || path.startsWith('/health/');
}
