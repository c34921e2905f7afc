import {
  builtOnce,
  createTokenVerifier,
  type PeriodicTask,
  poolOf,
  type ServiceDefinition,
  serviceDatabase,
  serviceSettings,
  startPeriodicTask,
} from '@dispatch/platform';
import { SERVICE_NAME, type WebhookConfig } from './config';
import { type DispatcherOptions, dispatchDue } from './dispatch/dispatcher';
import type { RetryPolicy } from './domain/backoff';
import type { TargetPolicy } from './domain/target-url';
import { CONSUMED_TOPICS, createBatchHandler, releaseStaleEvents } from './handlers';
import { addWebhookRoutes } from './http/routes';
import { createWebhookMetrics, type WebhookMetrics } from './metrics';
import { queueStats } from './store/endpoints';
import { MIGRATIONS_DIR } from './store/migrations';
import { pruneFinished } from './store/retention';

export function targetPolicyOf(config: WebhookConfig): TargetPolicy {
  return { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS, allowHttp: config.WEBHOOK_ALLOW_HTTP };
}

export function retryPolicyOf(config: WebhookConfig): RetryPolicy {
  return {
    baseDelayMs: config.WEBHOOK_RETRY_BASE_MS,
    maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
    retryWindowMs: config.WEBHOOK_RETRY_WINDOW_MS,
  };
}

/**
 * webhook-service as the platform starts it: webhook_db, the admin API, one consumer of the four raw
 * topics that queues deliveries, and on every instance a dispatcher that sends what is due.
 */
export function webhookService(config: WebhookConfig): ServiceDefinition {
  const verifyToken = createTokenVerifier(config);
  const policy = targetPolicyOf(config);
  let dispatcher: PeriodicTask | undefined;
  const wake = () => dispatcher?.wake();
  const metricsOf = builtOnce(
    (ctx): WebhookMetrics =>
      createWebhookMetrics(ctx.metrics.registry, {
        queueStats: () => queueStats(poolOf(ctx)),
        onQueueStatsError: (err) => ctx.logger.warn({ err }, 'could not read the webhook queue for /metrics'),
      }),
  );

  return {
    ...serviceSettings(SERVICE_NAME, config),
    postgres: serviceDatabase(config, MIGRATIONS_DIR),
    routes: (app, ctx) => {
      const pool = poolOf(ctx);
      metricsOf(ctx);
      addWebhookRoutes(app, {
        pool,
        verifyToken,
        policy,
        rotationOverlapDefaultMs: config.WEBHOOK_ROTATION_OVERLAP_DEFAULT_MS,
        onQueued: wake,
      });
    },
    consumers: (ctx) => {
      const pool = poolOf(ctx);
      return [
        {
          groupId: config.KAFKA_GROUP_ID,
          topics: CONSUMED_TOPICS,
          batchHandler: createBatchHandler({ pool, metrics: metricsOf(ctx), onQueued: wake }),
        },
      ];
    },
    tasks: (ctx) => {
      const pool = poolOf(ctx);
      const m = metricsOf(ctx);
      const logger = ctx.logger.child({ task: 'webhook-dispatcher' });
      const dispatchOptions: DispatcherOptions = {
        pool,
        logger,
        metrics: m,
        policy,
        retry: retryPolicyOf(config),
        disableAfter: {
          failures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
          minFailingMs: config.WEBHOOK_DISABLE_MIN_FAILING_MS,
        },
        timeoutMs: config.WEBHOOK_REQUEST_TIMEOUT_MS,
        concurrency: config.WEBHOOK_CONCURRENCY,
      };
      dispatcher = startPeriodicTask({
        name: 'webhook-dispatcher',
        intervalMs: config.WEBHOOK_POLL_MS,
        logger,
        run: (signal) => dispatchDue(dispatchOptions, signal),
      });
      const sweep = startPeriodicTask({
        name: 'webhook-hold-sweep',
        intervalMs: Math.max(1_000, Math.min(config.WEBHOOK_HOLD_MAX_MS, 10_000)),
        logger: ctx.logger.child({ task: 'webhook-hold-sweep' }),
        run: () =>
          releaseStaleEvents({
            pool,
            metrics: m,
            logger: ctx.logger,
            holdMaxMs: config.WEBHOOK_HOLD_MAX_MS,
            onQueued: wake,
          }),
      });
      const prune = startPeriodicTask({
        name: 'webhook-retention',
        intervalMs: 600_000,
        logger: ctx.logger.child({ task: 'webhook-retention' }),
        run: async () => {
          const dropped = await pruneFinished(pool, config.WEBHOOK_RETENTION_MS);
          if (dropped.deliveries + dropped.events + dropped.orders > 0) {
            ctx.logger.info(dropped, 'dropped finished webhook deliveries past their retention');
          }
        },
      });
      // Deliveries already due (queued before a restart) go out at once.
      dispatcher.wake();
      return [dispatcher, sweep, prune];
    },
  };
}
