import { serviceConfigSchema, serviceEnv } from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'webhook-service';

const ms = (min: number) => z.coerce.number().int().min(min);
/** `true`/`false` (also 1/0, yes/no); anything else is a config error, never silently false. */
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** webhook-service's environment. Every variable has a default except the auth secret. */
export const webhookConfigSchema = serviceConfigSchema({
  ...serviceEnv(SERVICE_NAME, { port: 8085, database: 'webhook_db' }),

  /** Local development and tests only: endpoints on loopback, private and link-local addresses. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: flag.default(false),
  /** Local development and tests only: plain http endpoints. */
  WEBHOOK_ALLOW_HTTP: flag.default(false),
  /** One attempt's whole time budget: connect, send, the answer's head. */
  WEBHOOK_REQUEST_TIMEOUT_MS: ms(100).max(60_000).default(10_000),
  /** How often the dispatcher looks for due deliveries (it is also woken when new ones are queued). */
  WEBHOOK_POLL_MS: ms(20).max(60_000).default(1_000),
  /** Attempts one instance has in flight at once. */
  WEBHOOK_CONCURRENCY: ms(1).max(256).default(16),
  /** First retry delay; doubles per attempt (jittered) up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  WEBHOOK_RETRY_BASE_MS: ms(10).default(5_000),
  WEBHOOK_RETRY_MAX_DELAY_MS: ms(10).default(3_600_000),
  /** A delivery is retried at least this long after it was queued, then given up. */
  WEBHOOK_RETRY_WINDOW_MS: ms(0).default(24 * 3_600_000),
  /** An endpoint is disabled after this many failed attempts in a row … */
  WEBHOOK_DISABLE_AFTER_FAILURES: ms(1).default(100),
  /** … the first of them at least this long ago. */
  WEBHOOK_DISABLE_MIN_FAILING_MS: ms(0).default(6 * 3_600_000),
  /** An event whose cause never arrives is released to the endpoints after this long. */
  WEBHOOK_HOLD_MAX_MS: ms(0).default(60_000),
  /** Finished deliveries (with their attempts) and their events are kept this long, then dropped. */
  WEBHOOK_RETENTION_MS: ms(60_000).default(30 * 86_400_000),
  /** How long a rotated-out secret keeps signing, unless the rotation asks otherwise. */
  WEBHOOK_ROTATION_OVERLAP_DEFAULT_MS: ms(0)
    .max(7 * 86_400_000)
    .default(86_400_000),
});

export type WebhookConfig = z.output<typeof webhookConfigSchema>;
