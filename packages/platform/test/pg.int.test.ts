import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, FaultProxy } from '@dispatch/testkit';
import pg from 'pg';
import {
  clientConfig,
  createPool,
  ensureDatabase,
  InvalidDatabaseNameError,
  migratePlatform,
  PLATFORM_MIGRATIONS,
  pgErrorCode,
  runMigrations,
  withTransaction,
} from '../src/pg';
import { gate } from './helpers/kafka';
import {
  adminConfig,
  createTestDatabase,
  dropDatabase,
  type TestDatabase,
  testLogger,
  uniqueName,
} from './helpers/pg';

async function tableNames(db: TestDatabase): Promise<string[]> {
  const result = await db.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return result.rows.map((r) => r.table_name);
}

describe('ensureDatabase', () => {
  it('creates a missing database once, and two racing creators both succeed', async () => {
    const name = uniqueName('ensure');
    try {
      const results = await Promise.all([
        ensureDatabase(adminConfig(), name),
        ensureDatabase(adminConfig(), name),
        ensureDatabase(adminConfig(), name),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await ensureDatabase(adminConfig(), name)).toBe(false);
      const client = new pg.Client(clientConfig({ ...adminConfig(), database: name }));
      await client.connect();
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      await client.end();
      expect(rows[0]?.db).toBe(name);
    } finally {
      await dropDatabase(name);
    }
  });

  it('rejects names that would need quoting tricks', async () => {
    await expect(ensureDatabase(adminConfig(), 'x"; DROP DATABASE postgres; --')).rejects.toBeInstanceOf(
      InvalidDatabaseNameError,
    );
  });
});

describe('runMigrations', () => {
  let db: TestDatabase;
  let serviceDir: string;

  beforeEach(async () => {
    db = await createTestDatabase('migrate', { migrate: false });
    serviceDir = await mkdtemp(path.join(tmpdir(), 'dispatch-migrations-'));
    await writeFile(
      path.join(serviceDir, '1735690000000_widgets.sql'),
      `-- Up Migration
       CREATE TABLE widgets (id int PRIMARY KEY, outbox_rows int);
       -- the platform's tables exist before a service's migrations run
       INSERT INTO widgets SELECT 1, count(*) FROM outbox;
       -- Down Migration
       DROP TABLE widgets;`,
    );
  });

  afterEach(async () => {
    await db.drop();
    await rm(serviceDir, { recursive: true, force: true });
  });

  it('applies the platform migrations, then the service migrations, and is idempotent', async () => {
    const applied = await runMigrations({ pool: db.pool, dir: serviceDir, logger: testLogger });
    expect(applied).toEqual(['1735689600000_outbox', '1735689600001_inbox', '1735690000000_widgets']);
    expect(await tableNames(db)).toEqual([
      'inbox',
      'outbox',
      'platform_migrations',
      'service_migrations',
      'widgets',
    ]);
    const widgets = await db.pool.query('SELECT outbox_rows FROM widgets');
    expect(widgets.rows).toEqual([{ outbox_rows: 0 }]);

    expect(await runMigrations({ pool: db.pool, dir: serviceDir, logger: testLogger })).toEqual([]);
    const recorded = await db.pool.query('SELECT name FROM service_migrations');
    expect(recorded.rows).toEqual([{ name: '1735690000000_widgets' }]);
  });

  it('lets two instances starting together both succeed, applying each migration once', async () => {
    // Separate pools and a URL target: like two processes.
    const other = createPool(db.config, testLogger);
    try {
      const results = await Promise.all([
        runMigrations({ pool: db.pool, dir: serviceDir, logger: testLogger }),
        runMigrations({ pool: other, dir: serviceDir, logger: testLogger }),
        runMigrations({ databaseUrl: clientConfig(db.config), dir: serviceDir, logger: testLogger }),
      ]);
      // Exactly one run did the work; the others found nothing left.
      expect(results.map((r) => r.length).sort()).toEqual([0, 0, 3]);
      const platform = await db.pool.query('SELECT name FROM platform_migrations ORDER BY id');
      expect(platform.rows.map((r) => r.name)).toEqual(['1735689600000_outbox', '1735689600001_inbox']);
      const service = await db.pool.query('SELECT count(*)::int AS n FROM service_migrations');
      expect(service.rows[0].n).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('migratePlatform applies only the platform tables, with their own migrations table', async () => {
    expect(await migratePlatform({ pool: db.pool, logger: testLogger })).toHaveLength(2);
    expect(await tableNames(db)).toEqual(['inbox', 'outbox', 'platform_migrations']);
    expect(PLATFORM_MIGRATIONS.migrationsTable).toBe('platform_migrations');
  });

  it('rolls a failing migration set back completely and leaves the pool usable', async () => {
    await writeFile(
      path.join(serviceDir, '1735690000001_broken.sql'),
      '-- Up Migration\nCREATE TABLE gadgets (id int);\nSELECT no_such_function();\n',
    );
    await expect(runMigrations({ pool: db.pool, dir: serviceDir, logger: testLogger })).rejects.toThrow(
      /no_such_function/,
    );
    // The platform set committed on its own; the service set (widgets + broken) rolled back as one.
    expect(await tableNames(db)).toEqual(['inbox', 'outbox', 'platform_migrations', 'service_migrations']);
    // The failed session was discarded, which frees the migration lock.
    await eventually(async () => {
      const locks = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(locks.rows[0].n).toBe(0);
    });
    expect(await runMigrations({ pool: db.pool, logger: testLogger })).toEqual([]);
  });
});

describe('withTransaction', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('tx', { migrate: false });
    await db.pool.query('CREATE TABLE items (id int PRIMARY KEY)');
  });

  afterEach(() => db.drop());

  async function ids(): Promise<number[]> {
    const result = await db.pool.query<{ id: number }>('SELECT id FROM items ORDER BY id');
    return result.rows.map((r) => r.id);
  }

  it('commits when the function resolves and returns its value', async () => {
    const value = await withTransaction(db.pool, async (tx) => {
      await tx.query('INSERT INTO items VALUES (1), (2)');
      return 'done';
    });
    expect(value).toBe('done');
    expect(await ids()).toEqual([1, 2]);
  });

  it('rolls back and rethrows when the function throws, and releases the client', async () => {
    const boom = new Error('boom');
    await expect(
      withTransaction(db.pool, async (tx) => {
        await tx.query('INSERT INTO items VALUES (1)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await ids()).toEqual([]);
    expect(db.pool.idleCount).toBe(db.pool.totalCount);
  });

  it('rolls back on a database error and keeps its SQLSTATE', async () => {
    const error = await withTransaction(db.pool, async (tx) => {
      await tx.query('INSERT INTO items VALUES (1)');
      await tx.query('INSERT INTO items VALUES (1)');
    }).catch((err: unknown) => err);
    expect(pgErrorCode(error)).toBe('23505');
    expect(await ids()).toEqual([]);
  });

  it('retries a transaction that lost a serialization conflict', async () => {
    // Classic write skew: both read the table, then both insert. Under SERIALIZABLE one must fail with
    // 40001; the retry then sees the other's row and succeeds.
    let attempts = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    let reads = 0;
    const writer = (id: number) =>
      withTransaction(
        db.pool,
        async (tx) => {
          attempts += 1;
          const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM items');
          reads += 1;
          if (reads === 2) bothRead();
          await barrier;
          await tx.query('INSERT INTO items VALUES ($1)', [id]);
          return rows[0]?.n;
        },
        { isolationLevel: 'serializable' },
      );
    const seen = await Promise.all([writer(1), writer(2)]);
    expect(await ids()).toEqual([1, 2]);
    expect(attempts).toBe(3);
    expect(seen.sort()).toEqual([0, 1]);
  });

  it('gives up after the configured retries', async () => {
    let attempts = 0;
    const error = await withTransaction(
      db.pool,
      async (tx) => {
        attempts += 1;
        await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`);
      },
      { retries: 2 },
    ).catch((err: unknown) => err);
    expect(pgErrorCode(error)).toBe('40001');
    expect(attempts).toBe(3);
  });
});

describe('prepared statements', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('prep', { migrate: false });
    await db.pool.query('CREATE TABLE items (id int PRIMARY KEY, label text)');
  });

  afterEach(() => db.drop());

  async function preparedOnConnection(client: pg.ClientBase): Promise<string[]> {
    // The view lists this session's own prepared statements; the query itself has no parameters,
    // so it runs unnamed and does not list itself.
    const { rows } = await client.query<{ statement: string }>(
      'SELECT statement FROM pg_prepared_statements ORDER BY prepare_time',
    );
    return rows.map((r) => r.statement.trim());
  }

  it('prepares a parameterised query once per connection and reuses it', async () => {
    const client = await db.pool.connect();
    try {
      const insert = 'INSERT INTO items (id, label) VALUES ($1, $2)';
      for (let id = 1; id <= 3; id += 1) await client.query(insert, [id, `item ${id}`]);
      const { rows } = await client.query<{ label: string }>('SELECT label FROM items WHERE id = $1', [2]);
      expect(rows).toEqual([{ label: 'item 2' }]);
      expect(await preparedOnConnection(client)).toEqual([insert, 'SELECT label FROM items WHERE id = $1']);
    } finally {
      client.release();
    }
  });

  it('keeps a statement usable after it failed inside a transaction that rolled back', async () => {
    await db.pool.query('INSERT INTO items (id, label) VALUES ($1, $2)', [1, 'one']);
    await expect(
      withTransaction(db.pool, (tx) =>
        tx.query('INSERT INTO items (id, label) VALUES ($1, $2)', [1, 'again']),
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await withTransaction(db.pool, (tx) =>
      tx.query('INSERT INTO items (id, label) VALUES ($1, $2)', [2, 'two']),
    );
    const { rows } = await db.pool.query<{ id: number }>('SELECT id FROM items ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it('prepares nothing when prepareStatements is false', async () => {
    const pool = createPool({ ...db.config, prepareStatements: false });
    try {
      const client = await pool.connect();
      try {
        await client.query('SELECT label FROM items WHERE id = $1', [1]);
        expect(await preparedOnConnection(client)).toEqual([]);
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});

describe('a pool whose connections break (through a FaultProxy)', () => {
  let db: TestDatabase;
  const proxy = new FaultProxy({ host: adminConfig().host, port: adminConfig().port });

  beforeAll(async () => {
    db = await createTestDatabase('broken', { migrate: false });
    await proxy.start();
  });

  afterAll(async () => {
    await proxy.close();
    await db.drop();
  });

  it('survives a connection reset in the middle of a transaction, and the next transaction works', async () => {
    const pool = createPool({ ...db.config, host: '127.0.0.1', port: proxy.port }, testLogger);
    try {
      const inTransaction = gate();
      const resetDone = gate();
      const failed = withTransaction(pool, async (tx) => {
        await tx.query('SELECT 1');
        inTransaction.open();
        // The connection breaks while this transaction holds it, between two statements: pg emits
        // 'error' on the checked-out client, which must not take the process down.
        await resetDone.opened;
        await new Promise((resolve) => setTimeout(resolve, 50));
        await tx.query('SELECT 2');
      });
      await inTransaction.opened;
      proxy.reset();
      resetDone.open();
      await expect(failed).rejects.toThrow();
      await expect(
        withTransaction(pool, async (tx) => (await tx.query('SELECT 3 AS n')).rows[0]),
      ).resolves.toEqual({
        n: 3,
      });
    } finally {
      await pool.end();
    }
  });
});
