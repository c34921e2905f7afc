import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropTestDatabase, testPgConfig, uniqueName } from '@dispatch/testkit';
import pg from 'pg';
import { readSeedFile, SeedError, seedDrivers } from '../src/cli/seed-drivers';
import { createDeliveryDatabase, type TestDatabase, testLogger } from './helpers';

const PACKAGE_DIR = path.resolve(__dirname, '..');
const DEMO_FILE = path.join(PACKAGE_DIR, 'seed/drivers.json');

/** Runs the seed CLI the way `pnpm --filter @dispatch/delivery-service seed` does. */
function runSeedCli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts', ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('seed command (real PostgreSQL)', () => {
  let db: TestDatabase;
  const tmp = mkdtempSync(path.join(tmpdir(), 'delivery-seed-'));

  beforeAll(async () => {
    db = await createDeliveryDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('loads the demo drivers idempotently: a second run changes nothing', async () => {
    const seed = await readSeedFile(DEMO_FILE);
    const pg = testPgConfig(db.name);

    const first = await seedDrivers(seed, pg, testLogger);
    const second = await seedDrivers(seed, pg, testLogger);

    expect(first).toEqual({ database: db.name, created: seed.drivers.length, updated: 0, unchanged: 0 });
    expect(second).toEqual({ database: db.name, created: 0, updated: 0, unchanged: seed.drivers.length });
    const pool = db.newPool(1);
    const rows = await pool.query<{ driver_id: string; status: string }>(
      'SELECT driver_id, status FROM drivers ORDER BY driver_id',
    );
    expect(rows.rows).toEqual(seed.drivers.map((d) => ({ driver_id: d.driverId, status: d.status })));
  });

  it('the CLI creates and migrates a database that does not exist yet, seeds it and exits 0', async () => {
    const database = uniqueName('delivery_it_seed');
    try {
      const result = runSeedCli([], { PGDATABASE: database });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/seeded 8 drivers .* 8 created, 0 updated, 0 unchanged/);
      const client = new pg.Client(testPgConfig(database));
      await client.connect();
      const count = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM drivers');
      await client.end();
      expect(count.rows[0]?.n).toBe(8);
      expect(runSeedCli([], { PGDATABASE: database }).stdout).toMatch(/0 created, 0 updated, 8 unchanged/);
    } finally {
      await dropTestDatabase(database);
    }
  });

  it('names every problem of an invalid file and exits non-zero', async () => {
    const file = path.join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ drivers: [{ driverId: 'ok-1', name: '', status: 'BUSY' }] }));

    await expect(readSeedFile(file)).rejects.toThrow(SeedError);
    const result = runSeedCli(['--file', file], { PGDATABASE: db.name });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('drivers.0.name');
    expect(result.stderr).toContain('drivers.0.status');
  });

  it('reports a missing file, bad JSON, duplicate ids and an unreachable database clearly', async () => {
    await expect(readSeedFile(path.join(tmp, 'missing.json'))).rejects.toThrow(/seed file not found/);
    const notJson = path.join(tmp, 'not.json');
    writeFileSync(notJson, '{ drivers: ');
    await expect(readSeedFile(notJson)).rejects.toThrow(/not valid JSON/);
    const dupes = path.join(tmp, 'dupes.json');
    const driver = { driverId: 'dup', name: 'Dup', status: 'AVAILABLE' };
    writeFileSync(dupes, JSON.stringify({ drivers: [driver, driver] }));
    await expect(readSeedFile(dupes)).rejects.toThrow(/drivers\.1\.driverId: duplicate driverId 'dup'/);

    const unreachable = runSeedCli([], { PGDATABASE: db.name, PGPORT: '1' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach PostgreSQL at');
  });
});
