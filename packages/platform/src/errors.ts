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

export class UnprocessableError extends DomainError {
  constructor(detail: string, code = 'unprocessable') {
    super(422, code, 'Unprocessable request', detail);
  }
}

export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super(429, 'rate-limited', 'Too many requests', `Retry after ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
    });
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
