import { backoffDelay, sleepUnlessAborted } from './backoff';

const opts = { initialDelayMs: 100, maxDelayMs: 5_000 };

describe('backoffDelay', () => {
  it('doubles the ceiling with each attempt', () => {
    const almostOne = () => 0.999_999;
    expect(backoffDelay(1, opts, almostOne)).toBe(99);
    expect(backoffDelay(2, opts, almostOne)).toBe(199);
    expect(backoffDelay(3, opts, almostOne)).toBe(399);
    expect(backoffDelay(6, opts, almostOne)).toBe(3_199);
  });

  it('never exceeds maxDelayMs, even for huge attempt numbers', () => {
    const almostOne = () => 0.999_999;
    expect(backoffDelay(7, opts, almostOne)).toBe(4_999);
    expect(backoffDelay(50, opts, almostOne)).toBe(4_999);
    expect(backoffDelay(5_000, opts, almostOne)).toBe(4_999);
  });

  it('uses full jitter: anywhere from 0 up to the ceiling', () => {
    expect(backoffDelay(4, opts, () => 0)).toBe(0);
    expect(backoffDelay(4, opts, () => 0.5)).toBe(400);
    const samples = Array.from({ length: 1_000 }, () => backoffDelay(3, opts));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(400);
    // 1,000 uniform samples cover the range; a constant (non-jittered) delay would fail this.
    expect(new Set(samples).size).toBeGreaterThan(100);
  });

  it('rejects attempt numbers below 1 and negative delays', () => {
    expect(() => backoffDelay(0, opts)).toThrow(RangeError);
    expect(() => backoffDelay(1.5, opts)).toThrow(RangeError);
    expect(() => backoffDelay(1, { initialDelayMs: -1, maxDelayMs: 10 })).toThrow(RangeError);
  });
});

describe('sleepUnlessAborted', () => {
  it('resolves true after the delay', async () => {
    await expect(sleepUnlessAborted(1, new AbortController().signal)).resolves.toBe(true);
  });

  it('resolves false at once when aborted during the wait', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = sleepUnlessAborted(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('resolves false without waiting when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sleepUnlessAborted(60_000, controller.signal)).resolves.toBe(false);
  });
});
