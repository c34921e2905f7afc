import { batchLimitsFromEnv, samplerFromEnv } from './tracing-env';

describe('batchLimitsFromEnv', () => {
  it('leaves the defaults to the SDK when nothing is set, or a value is blank or not a number', () => {
    expect(batchLimitsFromEnv({})).toEqual({});
    expect(batchLimitsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: ' ', OTEL_BSP_MAX_QUEUE_SIZE: 'lots' })).toEqual({});
  });

  it('reads the four OTEL_BSP_* variables, and caps the batch at the queue', () => {
    expect(
      batchLimitsFromEnv({
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
        OTEL_BSP_EXPORT_TIMEOUT: '3000',
      }),
    ).toEqual({
      scheduledDelayMillis: 1000,
      maxQueueSize: 100,
      maxExportBatchSize: 100,
      exportTimeoutMillis: 3000,
    });
  });
});

describe('samplerFromEnv', () => {
  it('is parentbased_always_on by default and for a value it does not know', () => {
    expect(samplerFromEnv({}).toString()).toBe(
      'ParentBased{root=AlwaysOnSampler, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}',
    );
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' }).toString()).toBe(
      samplerFromEnv({}).toString(),
    );
  });

  it.each([
    ['always_on', undefined, 'AlwaysOnSampler'],
    ['always_off', undefined, 'AlwaysOffSampler'],
    ['traceidratio', '0.1', 'TraceIdRatioBased{0.1}'],
    ['traceidratio', '7', 'TraceIdRatioBased{1}'],
  ])('%s (arg %s) is %s', (name, arg, expected) => {
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: arg }).toString()).toBe(
      expected,
    );
  });

  it('wraps the root sampler in ParentBased for the parentbased_* values', () => {
    const ratio = samplerFromEnv({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(ratio.toString()).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0\.25\}, /);
    const off = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
    expect(off.toString()).toMatch(/^ParentBased\{root=AlwaysOffSampler, /);
  });
});
