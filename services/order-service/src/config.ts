import { serviceConfigSchema, serviceEnv } from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'order-service';

const positiveInt = z.coerce.number().int().positive();

/** setInterval cannot wait longer (Node fires at once and warns instead). */
const MAX_TIMER_MS = 2_147_483_647;

/** The order-service environment. Every variable has a local default except the auth secret. */
export const orderConfigSchema = serviceConfigSchema({
  ...serviceEnv(SERVICE_NAME, { port: 8081, database: 'order_db' }),
  /** POST requests (create and cancel) one caller may make per window. */
  ORDERS_RATE_LIMIT: positiveInt.default(100),
  ORDERS_RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  /** Completed Idempotency-Keys are kept (and replayed) this long, then deleted. */
  IDEMPOTENCY_RETENTION_HOURS: positiveInt.default(24),
  /**
   * An order still CREATED, INVENTORY_RESERVED or PAYMENT_AUTHORIZED this long after its creation is
   * cancelled by the system. At least a second: the saga's steps need some time to run at all.
   */
  SAGA_DEADLINE_MS: positiveInt.min(1_000, 'expected at least 1000 (1 s)').default(15 * 60_000),
  /** How often the saga deadline sweeper looks for stuck orders. */
  SAGA_SWEEP_INTERVAL_MS: positiveInt
    .min(100, 'expected at least 100')
    .max(MAX_TIMER_MS, `expected at most ${MAX_TIMER_MS}`)
    .default(30_000),
});

export type OrderConfig = z.infer<typeof orderConfigSchema>;
