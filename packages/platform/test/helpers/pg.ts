import { randomBytes } from 'node:crypto';
import { dropTestDatabase, stackAddresses } from '@dispatch/testkit';
import type { Pool } from 'pg';
import { createLogger, type Logger } from '../../src/logger';
import { createPool, ensureDatabase, type PgConfig, runMigrations } from '../../src/pg';

/** Quiet unless LOG_LEVEL asks for more. */
export const testLogger: Logger = createLogger('platform-test', process.env.LOG_LEVEL ?? 'silent');

/** The server's maintenance database, from PGHOST/PGPORT/PGUSER/PGPASSWORD. */
export function adminConfig(): PgConfig {
  const { host, port, user, password } = stackAddresses().pg;
  return { host, port, user, password, database: 'postgres' };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  name: string;
  config: PgConfig;
  pool: Pool;
  /** Closes the pool and drops the database (terminating any session still connected). */
  drop(): Promise<void>;
}

/** A fresh database for one test, with the platform migrations applied unless `migrate` is false. */
export async function createTestDatabase(
  prefix: string,
  opts: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const admin = adminConfig();
  const name = uniqueName(prefix);
  try {
    await ensureDatabase(admin, name);
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${admin.host}:${admin.port} is unreachable or refused to create a database ` +
        `(set PGHOST/PGPORT/PGUSER/PGPASSWORD): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const config: PgConfig = { ...admin, database: name, max: 20 };
  const pool = createPool(config, testLogger);
  if (opts.migrate ?? true) await runMigrations({ pool, logger: testLogger });
  return {
    name,
    config,
    pool,
    drop: async () => {
      await pool.end();
      await dropDatabase(name);
    },
  };
}

/** Drops a test database (the shared testkit helper). */
export const dropDatabase = dropTestDatabase;
