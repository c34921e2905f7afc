import type { Pool } from 'pg';
import { SERVICE_NAME } from '../config';
import type { InventoryMetrics } from '../metrics';

/** What the steps need besides their StepContext. */
export interface StepDeps {
  metrics: InventoryMetrics;
}

/** What the batch handler needs. Several instances (pools) may run the same handlers on one database. */
export interface HandlerDeps extends StepDeps {
  pool: Pool;
}

/** The inbox records consumed events under the service's name (shared by all its instances). */
export const INBOX_CONSUMER = SERVICE_NAME;
