import {
  backoffStepMs,
  classifyStatus,
  DEFAULT_RETRY_POLICY,
  nextRetry,
  retryDelayMs,
  shouldDisable,
} from './backoff';

describe('retry schedule', () => {
  const policy = DEFAULT_RETRY_POLICY;

  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffStepMs(policy, n))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(backoffStepMs(policy, 11)).toBe(3_600_000);
    expect(backoffStepMs(policy, 500)).toBe(3_600_000);
  });

  it('jitters within the upper half of the step', () => {
    expect(retryDelayMs(policy, 3, () => 0)).toBe(10_000);
    expect(retryDelayMs(policy, 3, () => 0.999_999)).toBe(20_000);
    for (let i = 0; i < 100; i += 1) {
      const d = retryDelayMs(policy, 5);
      expect(d).toBeGreaterThanOrEqual(40_000);
      expect(d).toBeLessThanOrEqual(80_000);
    }
  });

  it('keeps retrying for at least 24 hours, then gives up', () => {
    const queuedAt = new Date('2026-01-01T00:00:00Z');
    let now = queuedAt;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      // The longest jitter each time: the fewest attempts the window can hold.
      const decision = nextRetry(policy, { attempt, queuedAt, now, random: () => 0.999_999 });
      if (!decision.retry) break;
      now = decision.nextAttemptAt;
    }
    expect(now.getTime() - queuedAt.getTime()).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(attempt).toBeGreaterThan(25);
    expect(attempt).toBeLessThan(45);
  });

  it('gives up at once when the window is over', () => {
    const queuedAt = new Date(0);
    expect(nextRetry(policy, { attempt: 1, queuedAt, now: new Date(24 * 3_600_000) })).toEqual({
      retry: false,
    });
    expect(nextRetry(policy, { attempt: 1, queuedAt, now: new Date(24 * 3_600_000 - 1) }).retry).toBe(true);
  });
});

describe('classifyStatus', () => {
  it('2xx delivered, 410 gone, everything else failed (redirects too)', () => {
    expect([200, 201, 204, 299].map(classifyStatus)).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(classifyStatus(410)).toBe('gone');
    expect([199, 301, 302, 400, 404, 429, 500, 503].map(classifyStatus).every((o) => o === 'failed')).toBe(
      true,
    );
  });
});

describe('shouldDisable', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  const threshold = { failures: 5, minFailingMs: 3_600_000 };
  it('needs both the streak and its age', () => {
    const since = new Date(now.getTime() - 3_600_000);
    expect(shouldDisable({ consecutiveFailures: 5, failingSince: since, now }, threshold)).toBe(true);
    expect(shouldDisable({ consecutiveFailures: 4, failingSince: since, now }, threshold)).toBe(false);
    expect(
      shouldDisable(
        { consecutiveFailures: 50, failingSince: new Date(now.getTime() - 1_000), now },
        threshold,
      ),
    ).toBe(false);
    expect(shouldDisable({ consecutiveFailures: 50, failingSince: null, now }, threshold)).toBe(false);
  });
});
