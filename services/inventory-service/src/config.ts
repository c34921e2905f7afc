import { pgDatabaseEnv, pgEnv, serviceConfigSchema, serviceEnv } from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'inventory-service';

/** Database name: `inventory_db` unless PGDATABASE says otherwise (tests use a fresh one). */
const databaseEnv = pgDatabaseEnv('inventory_db');

/** The database part alone: what the seed CLI needs. */
export const inventoryDatabaseSchema = z.object({ ...pgEnv, ...databaseEnv });

export const inventoryConfigSchema = serviceConfigSchema(
  serviceEnv(SERVICE_NAME, { port: 8083, database: 'inventory_db' }),
);

export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
