import { serviceConfigSchema, serviceEnv } from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'delivery-service';

const ms = (min: number) => z.coerce.number().int().min(min);

/** delivery-service's environment. Every variable has a local default except the auth secret. */
export const deliveryConfigSchema = serviceConfigSchema({
  ...serviceEnv(SERVICE_NAME, { port: 8084, database: 'delivery_db' }),

  /** Where every delivery starts (the depot), WGS84 degrees. Default: central London. */
  DEPOT_LAT: z.coerce.number().min(-90).max(90).default(51.5074),
  DEPOT_LNG: z.coerce.number().min(-180).max(180).default(-0.1278),
  /** Average driving speed, km/h, stops and traffic included. */
  DRIVER_SPEED_KMH: z.coerce.number().positive().max(300).default(25),
  /** Time at the depot (pick-up, loading) before the driver leaves. */
  HANDLING_TIME_MS: ms(0).default(600_000),
  /** An active delivery's ETA is never closer than this to now (a late driver's ETA slides). */
  ETA_MIN_REMAINING_MS: ms(0).default(300_000),

  /** How long a paid order may wait for a free driver before delivery.failed NO_DRIVER_AVAILABLE. */
  DRIVER_WAIT_MS: ms(0).default(120_000),
  /** Pause between assignment attempts for one waiting delivery. */
  ASSIGN_RETRY_MS: ms(100).default(2_000),
  /** How often each active delivery's ETA is recomputed. */
  ETA_REFRESH_MS: ms(100).default(30_000),
  /** eta.updated is emitted only when the ETA moved by more than this. */
  ETA_CHANGE_THRESHOLD_MS: ms(0).default(60_000),
  /** How often the scheduler looks for due work. */
  SCHEDULER_TICK_MS: ms(50).default(1_000),
  /** Deliveries handled per scheduler transaction. */
  SCHEDULER_BATCH_SIZE: ms(1).max(1_000).default(100),

  /**
   * The simulated driver fleet: `on` drives every assigned driver from the depot (DEPOT_LAT/LNG) to
   * the address at DRIVER_SPEED_KMH, reports positions and completes on arrival. Off by default:
   * the local stack and compose turn it on (a demo), a cluster keeps real drivers.
   */
  FLEET_SIMULATION: z.enum(['on', 'off']).default('off'),
  /** How often the simulated drivers move and report (each move covers the time since the last). */
  FLEET_TICK_MS: ms(100).max(60_000).default(1_000),
  /**
   * Time compression of the whole delivery-time model (handling, driving, ETA floor): 120 makes a
   * 16-minute delivery take 8 s. Only with FLEET_SIMULATION=on, so a real fleet's ETAs are never scaled.
   */
  FLEET_SPEED_UP: z.coerce.number().min(1).max(3_600).default(1),
}).superRefine((config, ctx) => {
  if (config.FLEET_SPEED_UP !== 1 && config.FLEET_SIMULATION !== 'on') {
    ctx.addIssue({
      code: 'custom',
      path: ['FLEET_SPEED_UP'],
      message:
        'FLEET_SPEED_UP compresses time for the simulated fleet only: set FLEET_SIMULATION=on or leave it at 1',
    });
  }
});

export type DeliveryConfig = z.output<typeof deliveryConfigSchema>;
