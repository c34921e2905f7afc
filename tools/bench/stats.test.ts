import { MemoryTracker, mebibytes, milliseconds, summarize, tailSummary } from './stats';

describe('summarize', () => {
  it('has nothing to say about no samples', () => {
    expect(summarize([])).toBeUndefined();
  });

  it('reports nearest-rank percentiles, which are always measured values', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(summarize(samples)).toEqual({
      count: 100,
      min: 1,
      p50: 50,
      p95: 95,
      p99: 99,
      max: 100,
      mean: 50.5,
    });
  });

  it('rounds the rank up, so a small sample reports its slowest value as p99', () => {
    expect(summarize([30, 10, 20])).toMatchObject({ p50: 20, p95: 30, p99: 30, min: 10, max: 30 });
    expect(summarize([7])).toMatchObject({ count: 1, p50: 7, p99: 7, mean: 7 });
  });
});

describe('MemoryTracker', () => {
  it('keeps start, peak and end per service', () => {
    const memory = new MemoryTracker();
    memory.record('payment-service', 100);
    memory.record('order-service', 50);
    memory.record('payment-service', 300);
    memory.record('payment-service', 200);
    expect(memory.summaries()).toEqual([
      { service: 'order-service', startBytes: 50, peakBytes: 50, endBytes: 50, samples: 1 },
      { service: 'payment-service', startBytes: 100, peakBytes: 300, endBytes: 200, samples: 3 },
    ]);
  });
});

describe('formatting', () => {
  it('prints mebibytes and milliseconds', () => {
    expect(mebibytes(150 * 1024 * 1024)).toBe('150 MiB');
    expect(milliseconds(12.4)).toBe('12 ms');
    expect(milliseconds(12_345)).toBe('12.3 s');
  });
});

describe('tailSummary', () => {
  it('reports nearest-rank p50, p99 and p99.9', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000..1, unsorted
    expect(tailSummary(samples)).toEqual({
      count: 1000,
      missing: 0,
      min: 1,
      p50: 500,
      p99: 990,
      p999: 999,
      max: 1000,
      mean: 500.5,
    });
    expect(tailSummary([30, 10, 20])).toMatchObject({ p50: 20, p99: 30, p999: 30 });
  });

  it('ranks the missing samples above every measured one: a percentile among them is null', () => {
    const samples = Array.from({ length: 98 }, (_, i) => i + 1);
    expect(tailSummary(samples, 2)).toMatchObject({
      count: 98,
      missing: 2,
      p50: 50,
      p99: null,
      p999: null,
      max: 98,
    });
    expect(tailSummary([...samples, 99], 1)).toMatchObject({ p99: 99, p999: null });
    expect(tailSummary([], 3)).toMatchObject({ count: 0, missing: 3, p50: null, min: null, mean: null });
  });

  it('has nulls for no samples at all', () => {
    expect(tailSummary([])).toEqual({
      count: 0,
      missing: 0,
      min: null,
      p50: null,
      p99: null,
      p999: null,
      max: null,
      mean: null,
    });
  });
});
