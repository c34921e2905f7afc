/** A failure of the launcher the user can act on; the CLI prints its message without a stack trace. */
export class StackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line. */
export class UsageError extends StackError {}

/** Bad environment variable (e.g. KAFKA_PARTITIONS=abc). */
export class ConfigError extends StackError {}

/** A server did not become ready in time, or died while starting. */
export class NotReadyError extends StackError {}

/** Existing state contradicts what we would create (e.g. a topic with another partition count). */
export class ProvisioningError extends StackError {}

export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(describeError).join('; ');
  }
  // First line only: some drivers embed whole inner stack traces in their messages.
  if (err instanceof Error) return (err.message || err.name).split('\n')[0]!;
  return String(err);
}
