import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the bad field, e.g. `items.0.quantity`. */
  path: string;
  message: string;
}

/**
 * A failure the caller can act on. The one HTTP error middleware turns it into an
 * RFC 9457 `application/problem+json` response; anything else is a 500.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    /** Short slug; the problem `type` becomes `https://dispatch.dev/problems/<code>`. */
    readonly code: string,
    readonly title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(
    readonly errors: FieldProblem[],
    detail = 'The request has invalid fields.',
  ) {
    super(400, 'validation-failed', 'Validation failed', detail, { errors });
  }
}

export class UnauthorizedError extends DomainError {
  constructor(detail = 'A valid bearer token is required.') {
    super(401, 'unauthorized', 'Unauthorized', detail);
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail = 'You may not do this.') {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

export class NotFoundError extends DomainError {
  constructor(detail = 'Not found.') {
    super(404, 'not-found', 'Not found', detail);
  }
}

export class ConflictError extends DomainError {
  constructor(detail: string, code = 'conflict') {
    super(409, code, 'Conflict', detail);
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(detail = 'The request body is too large.') {
    super(413, 'payload-too-large', 'Payload too large', detail);
  }
}

export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super(429, 'rate-limited', 'Too many requests', `Retry after ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
    });
  }
}

/** Why a request was refused for lack of capacity (the `reason` label of http_requests_rejected_total). */
export type OverloadReason =
  /** The admission queue was full. */
  | 'queue_full'
  /** The request waited in the admission queue longer than its maximum. */
  | 'queue_timeout'
  /** No pooled PostgreSQL connection became free within the pool's connection timeout. */
  | 'db_pool_timeout'
  /** PostgreSQL refused a new connection: max_connections reached (SQLSTATE 53300). */
  | 'db_too_many_connections';

/**
 * 503: the service has no capacity for this request right now. Nothing was done; the same request
 * (with the same Idempotency-Key, where the route takes one) may be sent again after `Retry-After`.
 */
export class OverloadedError extends DomainError {
  constructor(
    readonly reason: OverloadReason,
    retryAfterSeconds: number,
    detail = 'The service is at capacity; retry after the Retry-After delay.',
  ) {
    super(503, 'overloaded', 'Service overloaded', detail, { retryAfterSeconds });
  }
}

/** Lists every issue of a failed zod parse as field problems. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Parses input with a schema at the edge; throws a ValidationError naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, detail?: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldProblems(result.error), detail);
  return result.data;
}
