import { join } from 'node:path';
import { type Logger, runCassandraMigrations } from '@dispatch/platform';
import { cassandraConnection, keyspaceReplication, type QueryApiConfig } from './config';
import type { GenerationState, GenerationStore } from './store/generations';

/** The control keyspace's schema: the generation pointer. */
export const CONTROL_MIGRATIONS_DIR = join(__dirname, 'migrations', 'control');
/** Each generation keyspace's schema: the read model tables. */
export const READ_MODEL_MIGRATIONS_DIR = join(__dirname, 'migrations', 'read-model');

export async function migrateControlKeyspace(config: QueryApiConfig, logger: Logger): Promise<string[]> {
  return runCassandraMigrations({
    cassandra: cassandraConnection(config),
    keyspace: config.CASSANDRA_KEYSPACE,
    replication: keyspaceReplication(config),
    migrations: CONTROL_MIGRATIONS_DIR,
    logger,
  });
}

export async function migrateGenerationKeyspace(
  config: QueryApiConfig,
  keyspace: string,
  logger: Logger,
): Promise<string[]> {
  return runCassandraMigrations({
    cassandra: cassandraConnection(config),
    keyspace,
    replication: keyspaceReplication(config),
    migrations: READ_MODEL_MIGRATIONS_DIR,
    logger,
  });
}

/**
 * Everything the service needs before it consumes or serves: the control keyspace and its
 * generation row, then the read-model schema of the active generation (and of the one being
 * rebuilt, so a newer release's tables reach it too).
 */
export async function prepareSchema(
  config: QueryApiConfig,
  generations: GenerationStore,
  logger: Logger,
): Promise<GenerationState> {
  await migrateControlKeyspace(config, logger);
  const state = await generations.ensureInitialized();
  for (const generation of state.building === null ? [state.active] : [state.active, state.building]) {
    await migrateGenerationKeyspace(config, generations.keyspaceOf(generation), logger);
  }
  return state;
}
