/**
 * Thrown by a handler for a failure that retrying cannot fix (e.g. the event refers to an order
 * this service will never know). The consumer dead-letters the message at once instead of retrying.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/**
 * Thrown by a handler (or a store) for a condition that passes by itself: a dependency is down or
 * not ready, another worker holds the order. The message is fine, so the consumer keeps its offset
 * and retries it with capped backoff for as long as it takes; it is never dead-lettered. Errors of
 * the database, Redis, Cassandra and Kafka clients that mean "unavailable" are recognised without
 * this class (see failureKind).
 */
export class RetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Raised by ensureTopics when existing topics do not match their specs. */
export class TopicMismatchError extends Error {
  constructor(readonly problems: string[]) {
    super(`Kafka topics do not match their specs:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TopicMismatchError';
  }
}

/** Raised by parseDlqHeaders when a dead letter lacks a header or has a malformed one. */
export class DlqHeadersError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid dead-letter headers: ${problems.join('; ')}`);
    this.name = 'DlqHeadersError';
  }
}

/** A readable one-line description of whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
}
