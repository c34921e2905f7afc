import path from 'node:path';
import {
  builtOnce,
  createRedis,
  createTokenVerifier,
  type Logger,
  poolOf,
  type Redis,
  type ServiceDefinition,
  serviceDatabase,
  serviceSettings,
} from '@dispatch/platform';
import type { Pool } from 'pg';
import type { Histogram, Registry } from 'prom-client';
import { type PaymentConfig, SERVICE_NAME } from './config';
import type { PaymentGateway } from './gateway/gateway';
import { ResilientGateway } from './gateway/resilient-gateway';
import { SimulatedGateway } from './gateway/simulated-gateway';
import { CONSUMED_TOPICS, createBatchHandler, HANDLED_EVENT_TYPES } from './handlers';
import type { PaymentDeps } from './handlers/context';
import { addPaymentRoutes } from './http/routes';
import { createPaymentMetrics } from './metrics';
import { DedupCache } from './redis/dedup-cache';
import { OrderLock } from './redis/order-lock';
import { startSweeper } from './tasks/sweeper';

/**
 * Consumer retries: lock-busy and in-flight conditions (handlers/errors.ts) are RetryableErrors,
 * retried however long the lease (LOCK_TTL_MS) lasts; maxAttempts bounds only unknown failures.
 */
export const CONSUMER_RETRY = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 5_000 };

/** The simulated gateway configured from the environment (the only adapter built in). */
export function gatewayFromConfig(config: PaymentConfig): SimulatedGateway {
  return new SimulatedGateway({
    latencyMs: config.GATEWAY_LATENCY_MS,
    failureRate: config.GATEWAY_FAILURE_RATE,
  });
}

export interface PaymentDepsInput {
  config: PaymentConfig;
  pool: Pool;
  redis: Redis;
  gateway: PaymentGateway;
  registry: Registry;
  logger: Logger;
  stageLatency?: Histogram<'stage'>;
}

/** Wires the handler pipeline's dependencies (used by the service and by tests that run several pipelines). */
export function createPaymentDeps(input: PaymentDepsInput): PaymentDeps {
  const { config, logger } = input;
  const metrics = createPaymentMetrics(input.registry);
  return {
    pool: input.pool,
    metrics,
    logger,
    leaseMs: config.LOCK_TTL_MS,
    ...(input.stageLatency ? { stageLatency: input.stageLatency } : {}),
    lock: new OrderLock(input.redis, config.LOCK_TTL_MS, metrics, logger),
    dedup: new DedupCache(input.redis, config.DEDUP_TTL_SECONDS, metrics, logger),
    gateway: new ResilientGateway(
      input.gateway,
      {
        timeoutMs: config.GATEWAY_TIMEOUT_MS,
        retries: config.GATEWAY_RETRIES,
        backoffInitialMs: config.GATEWAY_BACKOFF_INITIAL_MS,
        backoffMaxMs: config.GATEWAY_BACKOFF_MAX_MS,
        breakerConsecutiveFailures: config.BREAKER_CONSECUTIVE_FAILURES,
        breakerHalfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
      },
      metrics,
    ),
  };
}

export interface PaymentServiceOptions {
  /** Default: the simulated gateway from GATEWAY_LATENCY_MS / GATEWAY_FAILURE_RATE. */
  gateway?: PaymentGateway;
}

/** payment-service as startService runs it. */
export function paymentService(config: PaymentConfig, opts: PaymentServiceOptions = {}): ServiceDefinition {
  const gateway = opts.gateway ?? gatewayFromConfig(config);
  const verifyToken = createTokenVerifier(config);
  let redis: Redis | undefined;
  // The consumer and the sweeper share one Redis client, breaker and set of metrics.
  const depsOf = builtOnce((ctx): PaymentDeps => {
    redis = createRedis(config.REDIS_URL, ctx.logger, SERVICE_NAME);
    return createPaymentDeps({
      config,
      pool: poolOf(ctx),
      redis,
      gateway,
      registry: ctx.metrics.registry,
      logger: ctx.logger,
      stageLatency: ctx.metrics.stageLatency,
    });
  });

  return {
    ...serviceSettings(SERVICE_NAME, config),
    postgres: serviceDatabase(config, path.resolve(__dirname, 'migrations')),
    // Redis is deliberately not a readiness check: without it payments go on, only slower.
    consumers: (ctx) => [
      {
        groupId: config.KAFKA_GROUP_ID,
        topics: CONSUMED_TOPICS,
        batchHandler: createBatchHandler(depsOf(ctx)),
        eventTypes: HANDLED_EVENT_TYPES,
        retry: CONSUMER_RETRY,
      },
    ],
    routes: (app, ctx) => addPaymentRoutes(app, { pool: poolOf(ctx), verifyToken }),
    tasks: (ctx) => [startSweeper(depsOf(ctx), ctx.logger, config.SWEEP_INTERVAL_MS)],
    onClose: async () => {
      if (!redis) return;
      // QUIT when Redis answers; when it is down there is nothing to say goodbye to.
      await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
