import { MemoryTracker, mebibytes, milliseconds, summarize } from './stats';

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
