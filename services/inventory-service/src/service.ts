import {
  createTokenVerifier,
  poolOf,
  type ServiceDefinition,
  serviceDatabase,
  serviceSettings,
} from '@dispatch/platform';
import { type InventoryConfig, SERVICE_NAME } from './config';
import { CONSUMED_TOPICS, createBatchHandler, HANDLED_EVENT_TYPES } from './handlers';
import { addInventoryRoutes } from './http/routes';
import { createInventoryMetrics } from './metrics';
import { stockTotals } from './store/catalogue-store';
import { MIGRATIONS_DIR } from './store/migrations';

/** inventory-service as the platform starts it: database, HTTP routes, consumers. */
export function inventoryService(config: InventoryConfig): ServiceDefinition {
  const verifyToken = createTokenVerifier(config);
  return {
    ...serviceSettings(SERVICE_NAME, config),
    postgres: serviceDatabase(config, MIGRATIONS_DIR),
    routes: (app, ctx) => addInventoryRoutes(app, { pool: poolOf(ctx), verifyToken }),
    consumers: (ctx) => {
      const pool = poolOf(ctx);
      // Built even when a test runs no consumers (withServiceOverrides): /metrics shows the series.
      const metrics = createInventoryMetrics(ctx.metrics.registry, {
        stageLatency: ctx.metrics.stageLatency,
        stockTotals: () => stockTotals(pool),
        onStockTotalsError: (err) => ctx.logger.warn({ err }, 'could not read stock totals for /metrics'),
      });
      return [
        {
          groupId: config.KAFKA_GROUP_ID,
          topics: CONSUMED_TOPICS,
          batchHandler: createBatchHandler({ pool, metrics }),
          eventTypes: HANDLED_EVENT_TYPES,
        },
      ];
    },
  };
}
