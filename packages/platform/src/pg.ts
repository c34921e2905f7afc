import path from 'node:path';
import { runner } from 'node-pg-migrate';
import pg, { type ClientConfig, type Pool, type PoolClient } from 'pg';
import type { Logger } from './logger';

/** Where and how to reach one PostgreSQL database. */
export interface PgConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Pool size (default 10). */
  max?: number;
  /** Server-side limit per statement (default 30 s); 0 disables it. */
  statementTimeoutMs?: number;
  /** Limit for opening a connection (default 5 s). */
  connectionTimeoutMs?: number;
  /** Idle pooled connections are closed after this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Shows up in pg_stat_activity. */
  applicationName?: string;
  /**
   * Pooled parameterised queries run as named prepared statements (default true): PostgreSQL parses
   * and plans each statement text once per connection instead of on every call. Turn off behind a
   * connection pooler that does not keep prepared statements per client (PgBouncer in transaction
   * mode before 1.21).
   */
  prepareStatements?: boolean;
}

/** The node-postgres client settings for a config (also used for dedicated, non-pooled sessions). */
export function clientConfig(cfg: PgConfig): ClientConfig {
  return {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database: cfg.database,
    statement_timeout: cfg.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: cfg.connectionTimeoutMs ?? 5_000,
    application_name: cfg.applicationName,
  };
}

/**
 * A pool's default size (services get theirs from PG_POOL_MAX, default 10 too). PostgreSQL's default
 * max_connections is 100 (3 reserved for superusers), shared by the four services with a database, each
 * with this pool plus the outbox relay's own session, a second instance now and then (the end-to-end
 * tests start one), and the integration tests' in-process services and assertion pools:
 * 4 × (10 + 1) = 44 leaves room for those. More connections would not buy throughput either: on a
 * 2-core machine only two queries make progress at any moment; the others just wait inside PostgreSQL.
 */
const DEFAULT_POOL_MAX = 10;

/**
 * How long a pooled checkout may wait (pg-pool's connectionTimeoutMillis: for a free connection when
 * the pool is full, or for a new one to open). Short, so a request fails fast with
 * 'timeout exceeded when trying to connect' (which the HTTP layer answers 503 + Retry-After) instead
 * of piling up behind a saturated pool; admission control keeps HTTP below the pool size, so in
 * practice only a burst on top of busy consumers waits this long.
 */
const DEFAULT_POOL_CONNECTION_TIMEOUT_MS = 2_000;

/**
 * A connection pool: `max` connections (default 10), a checkout waits at most `connectionTimeoutMs`
 * (default 2 s here, against 5 s for a dedicated session's connect), idle connections close after
 * `idleTimeoutMs`. A broken connection makes its client emit 'error' (pg.Pool re-emits it for idle
 * ones); without a listener that would crash the process, so it is logged instead. A checked-out
 * client whose connection broke fails its next query, and is destroyed when released with the error.
 */
export function createPool(cfg: PgConfig, logger?: Logger): Pool {
  const pool = new pg.Pool({
    ...clientConfig(cfg),
    ...((cfg.prepareStatements ?? true) ? { Client: preparingClient(new StatementNames()) } : {}),
    connectionTimeoutMillis: cfg.connectionTimeoutMs ?? DEFAULT_POOL_CONNECTION_TIMEOUT_MS,
    max: cfg.max ?? DEFAULT_POOL_MAX,
    idleTimeoutMillis: cfg.idleTimeoutMs ?? 30_000,
  });
  pool.on('error', (err) => {
    if (logger) logger.warn({ err, database: cfg.database }, 'idle postgres connection failed');
    else console.error(`idle postgres connection to ${cfg.database} failed:`, err);
  });
  // pg.Pool listens for errors of idle clients only: one that breaks while checked out (e.g. between
  // two statements of a transaction) would emit an unhandled 'error' and take the process down.
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (logger) logger.warn({ err, database: cfg.database }, 'postgres connection failed');
      else console.error(`postgres connection to ${cfg.database} failed:`, err);
    });
  });
  return pool;
}

/**
 * Most distinct statement texts a pool prepares. Statement texts are constants in the stores, except
 * a few multi-row inserts whose text grows with the row count; past this many the rest run unnamed, so
 * a connection's prepared statements (server memory) stay bounded.
 */
const MAX_PREPARED_STATEMENTS = 200;

/** One name per statement text, shared by a pool's connections (each prepares it on first use). */
export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly max = MAX_PREPARED_STATEMENTS) {}

  /** The statement's name, or undefined once `max` texts have one. */
  nameFor(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.max) {
      name = `dispatch_${this.names.size + 1}`;
      this.names.set(text, name);
    }
    return name;
  }
}

/**
 * A pg.Client whose `query(text, values)` runs as a named prepared statement. node-postgres parses a
 * named statement once per connection and afterwards only binds and executes it; without a name every
 * call is parsed and planned again (a large share of PostgreSQL's CPU for the services' short
 * statements). Queries without parameters (BEGIN, COMMIT, DDL) go through unchanged.
 */
function preparingClient(statements: StatementNames): typeof pg.Client {
  return class PreparingClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: forwards node-postgres' overloaded query signature
    override query(config: any, values?: any, callback?: any): any {
      if (typeof config === 'string' && Array.isArray(values)) {
        const name = statements.nameFor(config);
        if (name !== undefined) return super.query({ name, text: config, values }, callback);
      }
      return super.query(config, values, callback);
    }
  };
}

/** SQLSTATEs worth retrying a whole transaction for. */
const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';

/** The SQLSTATE of a node-postgres error, if it has one. */
export function pgErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** Extra attempts after a serialization failure or deadlock (default 3). `fn` may run more than once. */
  retries?: number;
  isolationLevel?: IsolationLevel;
}

/**
 * Runs `fn` in one transaction on one pooled client: COMMIT when it resolves, ROLLBACK and rethrow
 * when it throws. Serialization failures and deadlocks abort through no fault of the caller, so the
 * whole transaction is retried a few times with a short jittered pause; `fn` must therefore keep
 * its side effects inside the transaction.
 */
export async function withTransaction<T>(
  pool: Pool,
  fn: (tx: PoolClient) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await runOnce(pool, fn, opts.isolationLevel);
    } catch (err) {
      const code = pgErrorCode(err);
      const retryable = code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED;
      if (!retryable || attempt >= retries) throw err;
      await delay(10 * 2 ** attempt + Math.random() * 10);
    }
  }
}

async function runOnce<T>(
  pool: Pool,
  fn: (tx: PoolClient) => Promise<T>,
  isolationLevel: IsolationLevel | undefined,
): Promise<T> {
  const client = await pool.connect();
  // A client whose connection failed must be destroyed, not returned to the pool.
  let broken: Error | undefined;
  try {
    await client.query(isolationLevel ? `BEGIN ISOLATION LEVEL ${isolationLevel}` : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown for a database name PostgreSQL would not accept as-is. */
export class InvalidDatabaseNameError extends Error {
  constructor(name: string) {
    super(`invalid database name ${JSON.stringify(name)}: use 1-63 characters, letters, digits and _`);
    this.name = 'InvalidDatabaseNameError';
  }
}

/**
 * Creates database `name` if it does not exist yet (connecting to `adminCfg.database`, usually
 * `postgres`). Returns true if this call created it. Two processes starting at once may both see it
 * missing; the loser's CREATE fails with duplicate_database (or a unique violation on the catalogue),
 * which counts as success.
 */
export async function ensureDatabase(adminCfg: PgConfig, name: string): Promise<boolean> {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new InvalidDatabaseNameError(name);
  const client = new pg.Client(clientConfig(adminCfg));
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return true;
    } catch (err) {
      const code = pgErrorCode(err);
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

/** One directory of SQL migrations and the table that records which of them ran. */
export interface MigrationSet {
  dir: string;
  migrationsTable: string;
}

/** The platform's own tables (outbox, inbox); they run before every service's migrations. */
export const PLATFORM_MIGRATIONS: MigrationSet = {
  dir: path.resolve(__dirname, '../migrations'),
  migrationsTable: 'platform_migrations',
};

/**
 * Advisory lock key serialising every migration run on one database (advisory locks are per database).
 * node-pg-migrate's own lock is pg_try_advisory_lock, which makes the second of two instances starting
 * together FAIL ("Another migration is already running") instead of waiting; so we take a blocking
 * lock of our own around the whole run and switch its lock off.
 */
const MIGRATION_LOCK_KEY = 4_242_011_000_001;

export type MigrationTarget = { pool: Pool } | { databaseUrl: string | ClientConfig };

export type RunMigrationsOptions = MigrationTarget & {
  logger: Logger;
  /** The service's own SQL migrations (files named `<13-digit timestamp>_<name>.sql`). */
  dir?: string;
  /** Where the service's migrations are recorded (default `service_migrations`). */
  migrationsTable?: string;
  /** Run the platform's migrations first (default true). */
  platform?: boolean;
};

/**
 * Applies pending migrations: the platform's (outbox, inbox; table `platform_migrations`), then the
 * service's `dir`, each set in one transaction, all under one advisory lock so instances starting
 * together wait for each other and then find nothing left to do. Returns the names applied.
 */
export async function runMigrations(opts: RunMigrationsOptions): Promise<string[]> {
  const sets: MigrationSet[] = [];
  if (opts.platform ?? true) sets.push(PLATFORM_MIGRATIONS);
  if (opts.dir) sets.push({ dir: opts.dir, migrationsTable: opts.migrationsTable ?? 'service_migrations' });
  if (sets.length === 0) return [];

  const { client, done } = await migrationSession(opts);
  let broken: Error | undefined;
  try {
    // Migrations may legitimately run longer than the pool's statement timeout, and waiting for the
    // lock must not time out either. RESET restores the connection's own setting afterwards.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied: string[] = [];
    for (const set of sets) {
      const ran = await runner({
        dbClient: client,
        noLock: true,
        dir: set.dir,
        migrationsTable: set.migrationsTable,
        direction: 'up',
        singleTransaction: true,
        checkOrder: true,
        logger: migrationLogger(opts.logger),
      });
      applied.push(...ran.map((m) => m.name));
    }
    if (applied.length > 0) opts.logger.info({ applied }, 'database migrations applied');
    return applied;
  } catch (err) {
    // The session may still hold the lock or be mid-transaction: never hand it back to a pool.
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    if (!broken) {
      try {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        await client.query('RESET statement_timeout');
      } catch (err) {
        broken = err instanceof Error ? err : new Error(String(err));
      }
    }
    await done(broken);
  }
}

/** Applies only the platform's migrations (outbox, inbox). */
export function migratePlatform(target: MigrationTarget & { logger: Logger }): Promise<string[]> {
  return runMigrations({ ...target, platform: true, dir: undefined });
}

async function migrationSession(
  target: MigrationTarget,
): Promise<{ client: pg.ClientBase; done: (err?: Error) => Promise<void> }> {
  if ('pool' in target) {
    const client = await target.pool.connect();
    // After a failure the session may be mid-transaction or holding the lock: destroy it.
    return { client, done: async (err) => client.release(err) };
  }
  const client = new pg.Client(target.databaseUrl);
  await client.connect();
  return { client, done: () => client.end() };
}

/** node-pg-migrate narrates every step at info; keep that at debug so startup logs stay short. */
function migrationLogger(logger: Logger) {
  return {
    debug: (msg: string) => logger.debug(msg),
    info: (msg: string) => logger.debug(msg),
    warn: (msg: string) => logger.warn(msg),
    error: (msg: string) => logger.error(msg),
  };
}
