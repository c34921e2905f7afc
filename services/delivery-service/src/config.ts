import {
  authEnv,
  baseEnv,
  kafkaEnv,
  kafkaGroupEnv,
  pgDatabaseEnv,
  pgEnv,
  requireAuth,
} from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'delivery-service';

const ms = (min: number) => z.coerce.number().int().min(min);

/** delivery-service's environment. Every variable has a local default except the auth secret. */
export const configSchema = requireAuth(
  z.object({
    ...baseEnv,
    PORT: baseEnv.PORT.default(8084),
    ...kafkaEnv,
    ...kafkaGroupEnv(SERVICE_NAME),
    ...pgEnv,
    ...pgDatabaseEnv('delivery_db'),
    ...authEnv,

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
  }),
);

export type DeliveryConfig = z.output<typeof configSchema>;
