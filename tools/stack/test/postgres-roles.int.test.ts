/**
 * One PostgreSQL login role per service, on the real server: what `up` provisions (service-role.sql
 * through ensureServiceRoles) on scratch databases and roles of this test, and the roles `up` made
 * for the stack itself. The superuser of the test environment (PGUSER) provisions and cleans up.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, runMigrations } from '@dispatch/platform';
import { dropTestDatabase, stackAddresses } from '@dispatch/testkit';
import pg from 'pg';
import { loadStackConfig } from '../config';
import { ensureServiceRoles, readRolePassword, type ServiceRole, serviceRoles } from '../postgres-roles';
import { APP_SERVICES } from '../services';

const logger = createLogger('postgres-roles-test', process.env.LOG_LEVEL ?? 'silent');
const superuser = stackAddresses().pg;
const ORDER_MIGRATIONS = path.resolve(__dirname, '../../../services/order-service/src/migrations');

/** Each service role's password, for servers that check them (the local one trusts loopback). */
const passwords = new Map<string, string>();

/** Runs `fn` on a session as `user`. */
async function as<T>(user: string, database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const password = user === superuser.user ? superuser.password : (passwords.get(user) ?? '');
  const client = new pg.Client({ ...superuser, user, password, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a connection or statement fails with ('' when it succeeds). */
async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return '';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

const PERMISSION_DENIED = '42501';

describe('service roles on scratch databases', () => {
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const roles: ServiceRole[] = ['a', 'b'].map((x) => ({
    service: `roles-it-${x}-${tag}`,
    database: `roles_it_${x}_${tag}`,
    role: `roles_it_${x}_${tag}`,
  }));
  const [mine, theirs] = roles as [ServiceRole, ServiceRole];
  const secretsDir = path.join(mkdtempSync(path.join(tmpdir(), 'pg-roles-it-')), 'postgres');
  const postgres = { ...loadStackConfig(process.env).postgres, roleSecretsDir: secretsDir };

  beforeAll(async () => {
    // An upgraded stack: the databases exist and a superuser already migrated them.
    for (const { database } of roles) {
      await as(superuser.user, 'postgres', (c) => c.query(`CREATE DATABASE ${database}`));
      await runMigrations({ databaseUrl: { ...superuser, database }, logger, platform: true });
    }
    await ensureServiceRoles(postgres, roles);
    for (const r of roles) passwords.set(r.role, readRolePassword(secretsDir, r.service));
  });

  afterAll(async () => {
    for (const { database, role } of roles) {
      await dropTestDatabase(database);
      await as(superuser.user, 'postgres', (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
    rmSync(path.dirname(secretsDir), { recursive: true, force: true });
  });

  it('are logins without superuser, database or role creation, each with its generated password', async () => {
    const { rows } = await as(superuser.user, 'postgres', (c) =>
      c.query(
        `SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
                rolpassword LIKE 'SCRAM-SHA-256$%' AS scram
         FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname`,
        [roles.map((r) => r.role)],
      ),
    );
    expect(rows).toEqual(
      roles.map((r) => ({
        rolname: r.role,
        rolcanlogin: true,
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolreplication: false,
        rolbypassrls: false,
        scram: true,
      })),
    );
    expect(readRolePassword(secretsDir, mine.service)).not.toBe(readRolePassword(secretsDir, theirs.service));
  });

  it("cannot connect to another service's database, which PUBLIC cannot reach either", async () => {
    expect(await failure(() => as(mine.role, theirs.database, (c) => c.query('SELECT 1')))).toBe(
      PERMISSION_DENIED,
    );
    expect(await failure(() => as(theirs.role, mine.database, (c) => c.query('SELECT 1')))).toBe(
      PERMISSION_DENIED,
    );
    const { rows } = await as(superuser.user, 'postgres', (c) =>
      c.query(
        `SELECT has_database_privilege('public', $1, 'CONNECT') AS public_connect,
                pg_get_userbyid(datdba) AS owner
         FROM pg_database WHERE datname = $1`,
        [mine.database],
      ),
    );
    expect(rows).toEqual([{ public_connect: false, owner: mine.role }]);
  });

  it('cannot create a database or a role, nor make itself a superuser', async () => {
    await as(mine.role, mine.database, async (c) => {
      expect(await failure(() => c.query(`CREATE DATABASE ${mine.database}_more`))).toBe(PERMISSION_DENIED);
      expect(await failure(() => c.query(`CREATE ROLE ${mine.role}_more`))).toBe(PERMISSION_DENIED);
      expect(await failure(() => c.query(`ALTER ROLE ${mine.role} SUPERUSER`))).toBe(PERMISSION_DENIED);
    });
  });

  it("owns what the superuser's earlier migrations made, so its own migrations and queries run", async () => {
    const owners = await as(superuser.user, mine.database, (c) =>
      c.query(
        `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'i')`,
      ),
    );
    expect(owners.rows).toEqual([{ owner: mine.role }]);

    // As the service starts: the platform's migrations (done already) and then its own, new ones.
    const applied = await runMigrations({
      databaseUrl: {
        ...superuser,
        user: mine.role,
        password: passwords.get(mine.role)!,
        database: mine.database,
      },
      logger,
      dir: ORDER_MIGRATIONS,
    });
    expect(applied.length).toBeGreaterThan(0);
    await as(mine.role, mine.database, async (c) => {
      expect((await c.query('SELECT current_user AS who')).rows).toEqual([{ who: mine.role }]);
      await c.query(
        `INSERT INTO outbox (topic, message_key, event_id, event_type, payload)
         VALUES ('raw.order-events', 'o-1', gen_random_uuid(), 'order.created', '{}')`,
      );
      expect((await c.query("SELECT count(*)::int AS n FROM outbox WHERE message_key = 'o-1'")).rows).toEqual(
        [{ n: 1 }],
      );
      // Its own schema objects, e.g. a migration adding a column to a table a superuser created.
      await c.query('ALTER TABLE orders ADD COLUMN roles_it_probe text');
    });
  });

  it('is idempotent: a second run changes nothing and keeps every password', async () => {
    const before = roles.map((r) => readRolePassword(secretsDir, r.service));
    expect(await ensureServiceRoles(postgres, roles)).toEqual({ generated: [] });
    expect(roles.map((r) => readRolePassword(secretsDir, r.service))).toEqual(before);
    expect(await failure(() => as(mine.role, theirs.database, (c) => c.query('SELECT 1')))).toBe(
      PERMISSION_DENIED,
    );
    expect(await failure(() => as(mine.role, mine.database, (c) => c.query('SELECT 1')))).toBe('');
  });

  it('takes back a privilege someone granted another role, and undoes a widened role', async () => {
    await as(superuser.user, 'postgres', async (c) => {
      await c.query(`GRANT CONNECT ON DATABASE ${mine.database} TO ${theirs.role}`);
      await c.query(`ALTER ROLE ${theirs.role} CREATEDB`);
    });
    expect(await failure(() => as(theirs.role, mine.database, (c) => c.query('SELECT 1')))).toBe('');
    await ensureServiceRoles(postgres, roles);
    expect(await failure(() => as(theirs.role, mine.database, (c) => c.query('SELECT 1')))).toBe(
      PERMISSION_DENIED,
    );
    const { rows } = await as(superuser.user, 'postgres', (c) =>
      c.query('SELECT rolcreatedb FROM pg_roles WHERE rolname = $1', [theirs.role]),
    );
    expect(rows).toEqual([{ rolcreatedb: false }]);
  });

  it('refuses to turn the superuser it runs as into a service role', async () => {
    await expect(
      ensureServiceRoles(postgres, [
        { service: mine.service, database: mine.database, role: superuser.user },
      ]),
    ).rejects.toThrow(/refusing to turn the role running this script/);
  });
});

describe("the stack's own service roles (made by ./dispatch up)", () => {
  const stackRoles = serviceRoles(APP_SERVICES);
  beforeAll(() => {
    // Compose exports ORDER_SERVICE_PGPASSWORD, ...; `up` writes .stack/secrets/postgres/<service>.password.
    const config = loadStackConfig(process.env).postgres;
    for (const r of stackRoles) {
      const exported = process.env[`${r.role.toUpperCase()}_PGPASSWORD`];
      const file = path.join(config.roleSecretsDir, `${r.service}.password`);
      passwords.set(
        r.role,
        exported ?? (existsSync(file) ? readRolePassword(config.roleSecretsDir, r.service) : ''),
      );
    }
  });

  it('exist as plain logins, each owning only its own database', async () => {
    const { rows } = await as(superuser.user, 'postgres', (c) =>
      c.query(
        `SELECT r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole,
                array(SELECT datname::text FROM pg_database WHERE datdba = r.oid ORDER BY datname) AS owns
         FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`,
        [stackRoles.map((r) => r.role)],
      ),
    );
    const expected = stackRoles
      .map((r) => ({
        rolname: r.role,
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        owns: [r.database],
      }))
      .sort((a, b) => a.rolname.localeCompare(b.rolname));
    // A missing role means `up` did not provision them: run ./dispatch up (the test command does).
    expect(rows).toEqual(expected);
  });

  it("payment-service's role cannot reach order_db; no role reaches another service's database", async () => {
    expect(
      await failure(() => as('payment_service', 'order_db', (c) => c.query('SELECT * FROM orders'))),
    ).toBe(PERMISSION_DENIED);
    for (const role of stackRoles) {
      for (const other of stackRoles) {
        const outcome = await failure(() => as(role.role, other.database, (c) => c.query('SELECT 1')));
        expect(`${role.role} → ${other.database}: ${outcome}`).toBe(
          `${role.role} → ${other.database}: ${role === other ? '' : PERMISSION_DENIED}`,
        );
      }
    }
  });

  it("order-service's role migrates order_db as the service does at start, then reads its tables", async () => {
    // Idempotent: what order-service runs at every start (nothing new when it already ran).
    await runMigrations({
      databaseUrl: {
        ...superuser,
        user: 'order_service',
        password: passwords.get('order_service')!,
        database: 'order_db',
      },
      logger,
      dir: ORDER_MIGRATIONS,
    });
    const rows = await as('order_service', 'order_db', async (c) => {
      await c.query('SELECT count(*) FROM orders');
      return (await c.query('SELECT current_user AS who')).rows;
    });
    expect(rows).toEqual([{ who: 'order_service' }]);
  });
});
