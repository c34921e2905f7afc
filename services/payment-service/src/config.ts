import { kafkaGroupEnv, redisEnv, serviceConfigSchema, serviceEnv } from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'payment-service';

const positiveInt = z.coerce.number().int().positive();

/**
 * payment-service's environment. Gateway resilience (timeout, retries, breaker) and the per-order
 * lock TTL are tied together: the lock (and the Postgres lease on a PENDING payment) must outlive the
 * longest gateway call including retries, or a second worker could start while the first one is still
 * waiting for its answer. That is checked here, at start.
 */
export const paymentConfigSchema = serviceConfigSchema({
  ...serviceEnv(SERVICE_NAME, { port: 8082, database: 'payment_db' }),
  // One slot per partition (KAFKA_PARTITIONS is 6): an order whose charge is retried for a while
  // (gateway down) must not hold up the payments of other partitions.
  ...kafkaGroupEnv(SERVICE_NAME, 6),
  ...redisEnv,
  /** One gateway attempt's timeout. */
  GATEWAY_TIMEOUT_MS: positiveInt.default(2_000),
  /** Retries after the first attempt (so GATEWAY_RETRIES + 1 attempts at most). */
  GATEWAY_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  GATEWAY_BACKOFF_INITIAL_MS: positiveInt.default(100),
  GATEWAY_BACKOFF_MAX_MS: positiveInt.default(1_000),
  /** Simulated gateway: latency of every call. */
  GATEWAY_LATENCY_MS: z.coerce.number().int().min(0).default(50),
  /** Simulated gateway: share of attempts failing with a transient error before anything is charged. */
  GATEWAY_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  /** Consecutive failed gateway attempts that open the circuit breaker. */
  BREAKER_CONSECUTIVE_FAILURES: positiveInt.default(5),
  /** How long the breaker stays open before a trial call (half-open). */
  BREAKER_HALF_OPEN_AFTER_MS: positiveInt.default(10_000),
  /** TTL of the Redis lock per order, also the Postgres lease on a payment in flight. */
  LOCK_TTL_MS: positiveInt.default(15_000),
  /** How long the Redis fast-path key `payment:dedup:{orderId}` lives. */
  DEDUP_TTL_SECONDS: positiveInt.default(7 * 24 * 3600),
  /** How often abandoned charges/refunds (lease expired, e.g. after a crash) are resumed. */
  SWEEP_INTERVAL_MS: positiveInt.default(30_000),
}).superRefine((env, ctx) => {
  const worstCall = longestGatewayCallMs(env);
  if (env.LOCK_TTL_MS <= worstCall) {
    ctx.addIssue({
      code: 'custom',
      path: ['LOCK_TTL_MS'],
      message:
        `must be greater than the longest gateway call, GATEWAY_TIMEOUT_MS × (GATEWAY_RETRIES + 1) + ` +
        `GATEWAY_BACKOFF_MAX_MS × GATEWAY_RETRIES = ${worstCall} ms`,
    });
  }
  if (env.GATEWAY_BACKOFF_MAX_MS < env.GATEWAY_BACKOFF_INITIAL_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['GATEWAY_BACKOFF_MAX_MS'],
      message: 'must be at least GATEWAY_BACKOFF_INITIAL_MS',
    });
  }
});

export type PaymentConfig = z.output<typeof paymentConfigSchema>;

/** Upper bound of one resilient gateway call: every attempt times out and every backoff is the longest. */
export function longestGatewayCallMs(
  cfg: Pick<PaymentConfig, 'GATEWAY_TIMEOUT_MS' | 'GATEWAY_RETRIES' | 'GATEWAY_BACKOFF_MAX_MS'>,
): number {
  return (
    cfg.GATEWAY_TIMEOUT_MS * (cfg.GATEWAY_RETRIES + 1) + cfg.GATEWAY_BACKOFF_MAX_MS * cfg.GATEWAY_RETRIES
  );
}
