import { randomBytes } from 'node:crypto';
import { createPool, ensureDatabase, type Logger, type PgConfig, runMigrations } from '@dispatch/platform';
import pg, { type Pool } from 'pg';
import { createTestLogger } from './logger';
import { stackAddresses } from './stack';

/** A name no other test run uses (a database, keyspace, consumer group): `prefix_<time>_<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A short random id (10 hex digits) for the names a test makes up: orders, customers, topics, keyspaces. */
export function shortId(): string {
  return randomBytes(5).toString('hex');
}

/** The stack's PostgreSQL as the test superuser, on `database`. */
export function testPgConfig(database: string): PgConfig {
  const { host, port, user, password } = stackAddresses().pg;
  return { host, port, user, password, database };
}

/** Drops a test's own database, ending any session still connected to it (PostgreSQL 13+). */
export async function dropTestDatabase(name: string): Promise<void> {
  const admin = new pg.Client(testPgConfig('postgres'));
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A test's own scratch database: a fresh name, the platform's and the service's migrations applied. */
export interface TestDatabase {
  name: string;
  /** A pool on it, made first (it ran the migrations). */
  pool: Pool;
  /** Another pool on the same database (e.g. a second service instance); closed by drop(). */
  newPool(max?: number): Pool;
  /** Closes every pool made here and drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** The name's prefix (letters, digits, _): says which test made a database left behind. */
  prefix: string;
  /** The service's migrations (the platform's always run); none: the platform's only. */
  migrationsDir?: string;
  /** Connections of `pool` (default 10). */
  poolMax?: number;
  logger?: Logger;
}

/**
 * Creates a uniquely named database as the stack's superuser, runs the migrations on it and hands
 * back a pool; nothing else runs against it, so the test decides every row itself.
 */
export async function createTestDatabase(opts: TestDatabaseOptions): Promise<TestDatabase> {
  const logger = opts.logger ?? createTestLogger('test-database');
  const name = uniqueName(opts.prefix);
  const admin = testPgConfig('postgres');
  try {
    await ensureDatabase(admin, name);
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${admin.host}:${admin.port} is unreachable or refused to create a database ` +
        `(set PGHOST/PGPORT/PGUSER/PGPASSWORD or run \`pnpm stack up\`): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const pools: Pool[] = [];
  const newPool = (max = 10) => {
    const pool = createPool({ ...testPgConfig(name), max }, logger);
    pools.push(pool);
    return pool;
  };
  const pool = newPool(opts.poolMax ?? 10);
  await runMigrations({ pool, logger, ...(opts.migrationsDir ? { dir: opts.migrationsDir } : {}) });
  return {
    name,
    pool,
    newPool,
    drop: async () => {
      // A pool a test already ended is fine: the database goes regardless.
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      await dropTestDatabase(name);
    },
  };
}
