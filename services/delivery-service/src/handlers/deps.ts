import type { Pool } from 'pg';
import type { Clock } from '../clock';
import type { DeliveryMetrics } from '../metrics';
import type { AssignmentSettings } from '../use-cases/assign';

/** The inbox consumer name: one per service, shared by all its instances. */
export const CONSUMER = 'delivery-service';

export interface HandlerDeps {
  pool: Pool;
  clock: Clock;
  settings: AssignmentSettings;
  metrics: DeliveryMetrics;
}
