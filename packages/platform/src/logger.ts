import pino, { type Logger } from 'pino';
import { stdoutRotationFromEnv } from './log-rotation';

export type { Logger } from 'pino';

/** Fields bound to log lines while handling one event, so one order's saga can be followed across services. */
export interface EventLogContext {
  orderId?: string;
  correlationId?: string;
  eventId?: string;
  eventType?: string;
}

/**
 * JSON logs on stdout, one line per entry, with the service name on every line. Under the local
 * stack launcher (stdout is the file DISPATCH_LOG_FILE names) the file is also rotated by size while
 * the process runs, and lines are written synchronously so a rotation never falls between one
 * line's bytes (see log-rotation.ts).
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (stdoutRotationFromEnv() === undefined) return pino(options);
  return pino(options, pino.destination({ fd: 1, sync: true }));
}

/** A child logger with the event's saga identifiers bound. */
export function eventLogger(logger: Logger, ctx: EventLogContext): Logger {
  return logger.child(ctx);
}
