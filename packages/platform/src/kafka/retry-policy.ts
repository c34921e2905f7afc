import { failureKind } from './failure';

export interface ConsumerRetryOptions {
  /**
   * Tries per message before one failing for an unknown reason is dead-lettered (`exhausted`).
   * Retryable failures (a dependency down) are retried without limit, permanent ones not at all. Default 5.
   */
  maxAttempts: number;
  /** Ceiling of the first backoff. Default 100 ms. */
  initialDelayMs: number;
  /** Cap of any backoff. Default 5 s. */
  maxDelayMs: number;
}

export const DEFAULT_CONSUMER_RETRY: ConsumerRetryOptions = {
  maxAttempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
};

export function resolveRetryOptions(retry: Partial<ConsumerRetryOptions> = {}): ConsumerRetryOptions {
  const resolved = { ...DEFAULT_CONSUMER_RETRY, ...retry };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${resolved.maxAttempts}`);
  }
  if (resolved.initialDelayMs < 0 || resolved.maxDelayMs < resolved.initialDelayMs) {
    throw new RangeError('retry delays must satisfy 0 <= initialDelayMs <= maxDelayMs');
  }
  return resolved;
}

type FailureAction = { action: 'retry' } | { action: 'dead-letter'; reason: 'permanent' | 'exhausted' };

/**
 * What to do after the handler failed on `attempt` (from 1). Pure. A dependency that is down is not
 * a poison message: retryable failures are retried however long it takes, with the offset kept.
 */
export function failureAction(error: unknown, attempt: number, maxAttempts: number): FailureAction {
  const kind = failureKind(error);
  if (kind === 'permanent') return { action: 'dead-letter', reason: 'permanent' };
  if (kind === 'retryable' || attempt < maxAttempts) return { action: 'retry' };
  return { action: 'dead-letter', reason: 'exhausted' };
}
