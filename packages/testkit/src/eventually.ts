export interface EventuallyOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
}

/**
 * Retries `fn` until it stops throwing (an assertion that finally holds) and returns its value.
 * Tests poll for a condition with this instead of sleeping for a guessed time.
 */
export async function eventually<T>(fn: () => Promise<T> | T, opts: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`eventually: condition not met within ${timeoutMs} ms; last failure: ${reason}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
