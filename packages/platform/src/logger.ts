import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Fields bound to log lines while handling one event, so one order's saga can be followed across services. */
export interface EventLogContext {
  orderId?: string;
  correlationId?: string;
  eventId?: string;
  eventType?: string;
}

/** JSON logs on stdout, one line per entry, with the service name on every line. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A child logger with the event's saga identifiers bound. */
export function eventLogger(logger: Logger, ctx: EventLogContext): Logger {
  return logger.child(ctx);
}
