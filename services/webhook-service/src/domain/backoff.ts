/**
 * When a failed delivery is tried again: exponential backoff with "equal jitter" (half the step is
 * fixed, half random), so retries of many deliveries spread out but never collapse to zero, capped
 * at `maxDelayMs`; a delivery keeps being retried until `retryWindowMs` after it was queued (24 h by
 * default), then it is given up. The defaults give 5 s, 10 s, 20 s … ~43 min, then hourly (jittered to
 * 30-60 min): some 40 attempts over the first day.
 */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retries go on at least this long after the delivery was queued. */
  retryWindowMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  retryWindowMs: 24 * 3_600_000,
};

/** The un-jittered step after failed attempt number `attempt` (1-based). */
export function backoffStepMs(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(policy.baseDelayMs * 2 ** exponent, policy.maxDelayMs);
}

/** The jittered delay after failed attempt `attempt`: in [step/2, step]. `random` in [0, 1). */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const step = backoffStepMs(policy, attempt);
  return Math.round(step / 2 + random() * (step / 2));
}

export type RetryDecision = { retry: true; nextAttemptAt: Date } | { retry: false };

/**
 * After a failed attempt: retry at a jittered time, or give up once the retry window since the
 * delivery was queued has passed. The window is a floor: the last retry is the first one scheduled
 * at or after its end, so a delivery is retried for at least `retryWindowMs`.
 */
export function nextRetry(
  policy: RetryPolicy,
  opts: { attempt: number; queuedAt: Date; now: Date; random?: () => number },
): RetryDecision {
  const deadline = opts.queuedAt.getTime() + policy.retryWindowMs;
  if (opts.now.getTime() >= deadline) return { retry: false };
  const delay = retryDelayMs(policy, opts.attempt, opts.random);
  return { retry: true, nextAttemptAt: new Date(opts.now.getTime() + delay) };
}

/**
 * Whether an endpoint's failures disable it: `threshold` failed attempts in a row, the first of them
 * at least `minFailingMs` ago (so a short outage with many orders in flight does not disable it).
 */
export function shouldDisable(
  opts: { consecutiveFailures: number; failingSince: Date | null; now: Date },
  threshold: { failures: number; minFailingMs: number },
): boolean {
  if (opts.consecutiveFailures < threshold.failures || !opts.failingSince) return false;
  return opts.now.getTime() - opts.failingSince.getTime() >= threshold.minFailingMs;
}

/** How an attempt's HTTP answer is classified: 2xx delivered, 410 gone (disables), anything else failed. */
export type AttemptOutcome = 'delivered' | 'gone' | 'failed';

export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  return 'failed';
}
