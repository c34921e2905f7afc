import path from 'node:path';
import {
  builtOnce,
  createTokenVerifier,
  poolOf,
  type ServiceDefinition,
  serviceDatabase,
  serviceSettings,
} from '@dispatch/platform';
import { type Clock, systemClock } from './clock';
import { type DeliveryConfig, SERVICE_NAME } from './config';
import type { EtaModel } from './domain/eta';
import { compressTime } from './domain/movement';
import { type FleetSettings, FleetSimulator } from './fleet';
import { CONSUMED_TOPICS, createBatchHandler, HANDLED_EVENT_TYPES } from './handlers';
import { addDeliveryRoutes } from './http/routes';
import { createDeliveryMetrics, type DeliveryMetrics } from './metrics';
import { DeliveryScheduler, type SchedulerOptions } from './scheduler';
import type { AssignmentSettings } from './use-cases/assign';
import type { PositionSettings } from './use-cases/report-position';

export const MIGRATIONS_DIR = path.resolve(__dirname, 'migrations');

export interface DeliveryServiceOptions {
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * The delivery-time model every estimate of this instance uses (assignment, refresh, positions, the
 * simulated fleet). FLEET_SPEED_UP compresses it as a whole (the config allows that only with the
 * simulation on), so the ETAs published for the sped-up demo fleet stay true.
 */
export function etaModelOf(config: DeliveryConfig): EtaModel {
  return compressTime(
    {
      depot: { lat: config.DEPOT_LAT, lng: config.DEPOT_LNG },
      speedKmh: config.DRIVER_SPEED_KMH,
      handlingMs: config.HANDLING_TIME_MS,
      minRemainingMs: config.ETA_MIN_REMAINING_MS,
    },
    config.FLEET_SPEED_UP,
  );
}

export function positionSettingsOf(config: DeliveryConfig): PositionSettings {
  return { etaModel: etaModelOf(config), changeThresholdMs: config.ETA_CHANGE_THRESHOLD_MS };
}

/** The simulated fleet's settings, or undefined when FLEET_SIMULATION is off. */
export function fleetSettingsOf(config: DeliveryConfig): FleetSettings | undefined {
  if (config.FLEET_SIMULATION !== 'on') return undefined;
  return {
    ...positionSettingsOf(config),
    tickMs: config.FLEET_TICK_MS,
    batchSize: config.SCHEDULER_BATCH_SIZE,
  };
}

export function assignmentSettingsOf(config: DeliveryConfig): AssignmentSettings {
  return {
    etaModel: etaModelOf(config),
    driverWaitMs: config.DRIVER_WAIT_MS,
    retryIntervalMs: config.ASSIGN_RETRY_MS,
  };
}

/** delivery-service as startService runs it: its database, routes, consumer and scheduler. */
export function deliveryService(
  config: DeliveryConfig,
  opts: DeliveryServiceOptions = {},
): ServiceDefinition {
  const clock = opts.clock ?? systemClock;
  const settings = assignmentSettingsOf(config);
  const verifyToken = createTokenVerifier(config);
  let scheduler: DeliveryScheduler | undefined;
  const metricsOf = builtOnce((ctx): DeliveryMetrics => createDeliveryMetrics(ctx.metrics, poolOf(ctx)));

  return {
    ...serviceSettings(SERVICE_NAME, config),
    postgres: serviceDatabase(config, MIGRATIONS_DIR),
    routes: (app, ctx) => {
      const pool = poolOf(ctx);
      addDeliveryRoutes(app, {
        pool,
        clock,
        verifyToken,
        metrics: metricsOf(ctx),
        positions: positionSettingsOf(config),
        onDriverFreed: () => scheduler?.wake(),
      });
    },
    consumers: (ctx) => {
      const pool = poolOf(ctx);
      const batchHandler = createBatchHandler({
        pool,
        clock,
        settings,
        metrics: metricsOf(ctx),
      });
      return [
        {
          topics: CONSUMED_TOPICS,
          batchHandler,
          eventTypes: HANDLED_EVENT_TYPES,
          groupId: config.KAFKA_GROUP_ID,
        },
      ];
    },
    tasks: (ctx) => {
      const pool = poolOf(ctx);
      scheduler = createScheduler(config, {
        pool,
        clock,
        logger: ctx.logger.child({ task: 'delivery-scheduler' }),
        metrics: metricsOf(ctx),
      });
      scheduler.start();
      const fleet = fleetSettingsOf(config);
      if (!fleet) return [scheduler];
      const simulator = new FleetSimulator({
        pool,
        clock,
        logger: ctx.logger.child({ task: 'fleet-simulator' }),
        metrics: metricsOf(ctx),
        settings: fleet,
        onDriverFreed: () => scheduler?.wake(),
      });
      simulator.start();
      return [scheduler, simulator];
    },
  };
}

/** The scheduler as configured (not started). */
export function createScheduler(
  config: DeliveryConfig,
  deps: Pick<SchedulerOptions, 'pool' | 'clock' | 'logger' | 'metrics'>,
): DeliveryScheduler {
  return new DeliveryScheduler({
    ...deps,
    assignment: assignmentSettingsOf(config),
    eta: {
      etaModel: etaModelOf(config),
      refreshIntervalMs: config.ETA_REFRESH_MS,
      changeThresholdMs: config.ETA_CHANGE_THRESHOLD_MS,
    },
    batchSize: config.SCHEDULER_BATCH_SIZE,
    tickMs: config.SCHEDULER_TICK_MS,
  });
}
