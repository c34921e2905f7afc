import { createLogger, type Logger } from '@dispatch/platform';

/** A logger for test code and in-process services: silent unless TEST_LOG_LEVEL asks for more. */
export function createTestLogger(name: string): Logger {
  return createLogger(name, process.env.TEST_LOG_LEVEL ?? 'silent');
}
