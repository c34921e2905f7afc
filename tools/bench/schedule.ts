/**
 * The open loop's arithmetic, kept pure for its tests: when each order is due, which orders are
 * followed, and the achieved rates.
 */

/** Orders followed per second by default: every order up to this rate, a fraction beyond it. */
export const DEFAULT_SAMPLED_PER_SECOND = 20;

/** Orders one step places: those due before the end of the window, at start + i/rate. */
export function ordersInStep(rate: number, durationS: number): number {
  return Math.ceil(rate * durationS);
}

/** When order i is due, in ms after the start of the window. */
export function dueOffsetMs(index: number, rate: number): number {
  return (index * 1000) / rate;
}

/** How many orders are due `elapsedMs` after the start (at most `total`): those with i/rate <= elapsed. */
export function dueCount(elapsedMs: number, rate: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000 + 1e-9) + 1);
}

/** The default fraction of orders followed at `rate`: all of them up to 20/s. */
export function defaultSampleFraction(rate: number): number {
  return Math.min(1, DEFAULT_SAMPLED_PER_SECOND / rate);
}

/**
 * Whether order i is followed: evenly spread, `fraction` of every run of orders (1: all, 0.25:
 * every fourth, i = 3, 7, 11, …).
 */
export function isSampled(index: number, fraction: number): boolean {
  if (fraction >= 1) return true;
  return Math.floor((index + 1) * fraction + 1e-9) > Math.floor(index * fraction + 1e-9);
}

/**
 * The rate at which events (201s, assignments) came, from their times: n - 1 intervals over the
 * span from the first to the last, but never a shorter span than the window's orders are due over
 * (window - one interval), so a stack that stops answering half-way gets half the rate. That is
 * the offered rate when the stack keeps up, whatever its latency, and the rate it got through when
 * it fell behind and answered the window's orders over a longer time. `scale` turns a sample's
 * count into the whole's (accepted / followed). Fewer than two events: n / window.
 */
export function achievedRate(
  eventOffsetsMs: number[],
  window: { windowMs: number; rate: number },
  scale = 1,
): number {
  const n = eventOffsetsMs.length;
  if (n < 2) return (n * scale * 1000) / window.windowMs;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const offset of eventOffsetsMs) {
    first = Math.min(first, offset);
    last = Math.max(last, offset);
  }
  const span = Math.max(last - first, window.windowMs - 1000 / window.rate);
  if (span <= 0) return (n * scale * 1000) / window.windowMs;
  return ((n - 1) * scale * 1000) / span;
}
