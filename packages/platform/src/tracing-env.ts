// The OTEL_* variables the trace SDK read itself up to 2.x. @opentelemetry/sdk-trace 3 reads no
// environment (only the OTLP exporter still does, for its endpoint, headers, timeout, compression), so
// the batch processor's and the sampler's variables that docs/tracing.md names are read here.
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  type BatchSpanProcessorOptions,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

type BatchLimits = Pick<
  BatchSpanProcessorOptions,
  'scheduledDelayMillis' | 'maxQueueSize' | 'maxExportBatchSize' | 'exportTimeoutMillis'
>;

/** A non-negative number from the environment; unset, blank or not a number: undefined (the default). */
function numberFrom(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_EXPORT_TIMEOUT. */
export function batchLimitsFromEnv(env: NodeJS.ProcessEnv): BatchLimits {
  const limits: BatchLimits = {};
  const delay = numberFrom(env, 'OTEL_BSP_SCHEDULE_DELAY');
  const queue = numberFrom(env, 'OTEL_BSP_MAX_QUEUE_SIZE');
  const batch = numberFrom(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  const timeout = numberFrom(env, 'OTEL_BSP_EXPORT_TIMEOUT');
  if (delay !== undefined) limits.scheduledDelayMillis = delay;
  if (queue !== undefined) limits.maxQueueSize = queue;
  // A batch larger than the queue could never fill: cap it, as the 2.x SDK did.
  if (batch !== undefined) limits.maxExportBatchSize = Math.min(batch, queue ?? 2048);
  if (timeout !== undefined) limits.exportTimeoutMillis = timeout;
  return limits;
}

/**
 * OTEL_TRACES_SAMPLER (default `parentbased_always_on`; an unknown value also means that) and, for
 * the ratio samplers, OTEL_TRACES_SAMPLER_ARG (a probability in [0, 1], default 1).
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const arg = numberFrom(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = () => new TraceIdRatioBasedSampler(arg !== undefined && arg <= 1 ? arg : 1);
  switch (env.OTEL_TRACES_SAMPLER?.trim()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
