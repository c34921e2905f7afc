import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  initialDelayMs: number;
  /** No delay exceeds this. */
  maxDelayMs: number;
}

/**
 * Capped exponential backoff with full jitter: a uniformly random delay in
 * [0, min(maxDelayMs, initialDelayMs * 2^(attempt - 1))). The jitter spreads out retries of
 * many consumers that failed at the same moment (e.g. when the database blipped).
 *
 * @param attempt the number of the attempt that just failed, from 1
 * @param random a source of numbers in [0, 1), injectable for tests
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`backoffDelay: attempt must be an integer >= 1, got ${attempt}`);
  }
  if (opts.initialDelayMs < 0 || opts.maxDelayMs < 0) {
    throw new RangeError('backoffDelay: delays must not be negative');
  }
  // 2 ** 1024 is Infinity, which Math.min caps, so large attempt numbers are safe.
  const ceiling = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Waits `ms`; resolves false at once if the signal aborts first (e.g. the consumer is stopping). */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch (err) {
    if (signal.aborted) return false;
    throw err;
  }
}
