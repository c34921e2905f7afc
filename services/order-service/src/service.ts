import path from 'node:path';
import {
  type BackgroundTask,
  builtOnce,
  createLogger,
  createRedis,
  createTokenVerifier,
  type Logger,
  poolOf,
  rateLimit,
  type ServiceDefinition,
  serviceDatabase,
  serviceSettings,
  startPeriodicTask,
} from '@dispatch/platform';
import type { Pool } from 'pg';
import { type OrderConfig, SERVICE_NAME } from './config';
import { CONSUMED_TOPICS, createBatchHandler, HANDLED_EVENT_TYPES } from './handlers';
import { addOrderRoutes } from './http/routes';
import { createOrderMetrics, type OrderMetrics } from './metrics';
import { deleteExpiredKeys } from './store/idempotency';
import { expireStuckOrders } from './use-cases/expire-stuck-orders';

const IDEMPOTENCY_SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * order-service as startService runs it (main.ts in production, the integration tests in-process):
 * order_db with its migrations, the HTTP API, a consumer of the inventory, payment and delivery topics
 * that follows each order's status, the saga deadline sweeper and a sweep of old Idempotency-Keys.
 */
export function orderService(config: OrderConfig): ServiceDefinition {
  // Connecting now gives Redis the whole startup to be ready before the rate limiter first uses it.
  const redis = createRedis(config.REDIS_URL, createLogger(SERVICE_NAME, config.LOG_LEVEL), SERVICE_NAME);
  const verifyToken = createTokenVerifier(config);
  // The routes and the deadline sweeper count into the same metrics; a registry takes each name once.
  const metricsOf = builtOnce((ctx): OrderMetrics => createOrderMetrics(ctx.metrics));

  return {
    ...serviceSettings(SERVICE_NAME, config),
    bodyLimit: '64kb',
    postgres: serviceDatabase(config, path.resolve(__dirname, 'migrations')),
    routes: (app, ctx) =>
      addOrderRoutes(app, {
        pool: poolOf(ctx),
        metrics: metricsOf(ctx),
        logger: ctx.logger,
        verifyToken,
        rateLimiter: rateLimit({
          redis,
          name: 'orders-post',
          windowMs: config.ORDERS_RATE_LIMIT_WINDOW_MS,
          limit: config.ORDERS_RATE_LIMIT,
          registry: ctx.metrics.registry,
        }),
      }),
    consumers: (ctx) => [
      {
        groupId: config.KAFKA_GROUP_ID,
        topics: CONSUMED_TOPICS,
        batchHandler: createBatchHandler({ pool: poolOf(ctx), consumer: SERVICE_NAME }),
        eventTypes: HANDLED_EVENT_TYPES,
      },
    ],
    tasks: (ctx) => [
      sagaDeadlineSweeper(config, { pool: poolOf(ctx), metrics: metricsOf(ctx), logger: ctx.logger }),
      idempotencySweeper(config, { pool: poolOf(ctx), logger: ctx.logger }),
    ],
    onClose: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Every SAGA_SWEEP_INTERVAL_MS, cancels the orders still cancellable SAGA_DEADLINE_MS after creation
 * (see expireStuckOrders). Safe to run on every instance: each order is claimed with SKIP LOCKED.
 */
export function sagaDeadlineSweeper(
  config: Pick<OrderConfig, 'SAGA_DEADLINE_MS' | 'SAGA_SWEEP_INTERVAL_MS'>,
  deps: { pool: Pool; metrics: OrderMetrics; logger: Logger },
): BackgroundTask {
  return startPeriodicTask({
    name: 'saga deadline sweeper',
    intervalMs: config.SAGA_SWEEP_INTERVAL_MS,
    logger: deps.logger,
    run: async (signal) => {
      await expireStuckOrders({ ...deps, deadlineMs: config.SAGA_DEADLINE_MS }, signal);
    },
  });
}

/** Deletes Idempotency-Keys past their retention every 10 minutes. */
function idempotencySweeper(
  config: Pick<OrderConfig, 'IDEMPOTENCY_RETENTION_HOURS'>,
  deps: { pool: Pool; logger: Logger },
): BackgroundTask {
  return startPeriodicTask({
    name: 'idempotency-key sweeper',
    intervalMs: IDEMPOTENCY_SWEEP_INTERVAL_MS,
    logger: deps.logger,
    run: async () => {
      const deleted = await deleteExpiredKeys(deps.pool, config.IDEMPOTENCY_RETENTION_HOURS);
      if (deleted > 0) deps.logger.info({ deleted }, 'expired Idempotency-Keys deleted');
    },
  });
}
