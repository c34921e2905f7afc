import {
  authEnv,
  baseEnv,
  kafkaEnv,
  kafkaGroupEnv,
  pgDatabaseEnv,
  pgEnv,
  requireAuth,
  requireKafkaCredentialPair,
} from '@dispatch/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'inventory-service';

/** Database name: `inventory_db` unless PGDATABASE says otherwise (tests use a fresh one). */
const databaseEnv = pgDatabaseEnv('inventory_db');

/** The database part alone: what the seed CLI needs. */
export const inventoryDatabaseSchema = z.object({ ...pgEnv, ...databaseEnv });

export const inventoryConfigSchema = requireAuth(
  requireKafkaCredentialPair(
    z.object({
      ...baseEnv,
      PORT: baseEnv.PORT.default(8083),
      ...kafkaEnv,
      ...kafkaGroupEnv(SERVICE_NAME),
      ...pgEnv,
      ...databaseEnv,
      ...authEnv,
    }),
  ),
);

export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
