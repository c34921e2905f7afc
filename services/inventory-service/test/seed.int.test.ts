import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool } from '@dispatch/platform';
import { dropTestDatabase, testPgConfig, uniqueName } from '@dispatch/testkit';
import type { Pool } from 'pg';
import { testLogger } from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

const PACKAGE_DIR = path.resolve(__dirname, '..');

/** Runs the seed CLI as a user would (a separate process) and reports how it ended. */
function runSeed(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/seed.ts', ...args],
      { cwd: PACKAGE_DIR, env: { ...process.env, ...env, INIT_CWD: PACKAGE_DIR }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('seed CLI (real PostgreSQL)', () => {
  const database = uniqueName('it_inventory_seed');
  const env = { PGDATABASE: database };
  let pool: Pool | undefined;

  afterAll(async () => {
    await pool?.end();
    await dropTestDatabase(database);
  });

  const stock = async (itemId: string) =>
    (
      await (pool as Pool).query(
        'SELECT name, unit_price::text AS price, available, reserved FROM items WHERE item_id = $1',
        [itemId],
      )
    ).rows[0];

  it('creates the database and loads the demo catalogue, idempotently; --reset restores it', async () => {
    const first = await runSeed([], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(
      /11 items from .*demo-catalogue\.json into .*: 11 created, 0 already present/,
    );

    pool = createPool(testPgConfig(database), testLogger);
    const count = async () => (await (pool as Pool).query('SELECT count(*)::int AS n FROM items')).rows[0].n;
    expect(await count()).toBe(11);
    expect(await stock('sku-espresso-machine')).toEqual({
      name: 'Dual-boiler espresso machine',
      price: '1299.00',
      available: 1,
      reserved: 0,
    });

    // Live changes survive a plain re-run...
    await pool.query("UPDATE items SET available = 0, reserved = 2 WHERE item_id = 'sku-burr-grinder'");
    const again = await runSeed([], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 created, 11 already present');
    expect(await count()).toBe(11);
    expect(await stock('sku-burr-grinder')).toMatchObject({ available: 0, reserved: 2 });

    // ...and --reset restores the file's values, leaving reserved units alone.
    const reset = await runSeed(['--reset'], env);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('0 created, 11 reset');
    expect(await stock('sku-burr-grinder')).toMatchObject({ available: 3, reserved: 2 });
  });

  it('fails with a clear message and a non-zero exit code', async () => {
    const badFile = path.join(tmpdir(), `${uniqueName('catalogue')}.json`);
    writeFileSync(
      badFile,
      JSON.stringify({
        items: [{ itemId: 'x', name: 'X', unitPrice: '1.5', currency: 'EUR', available: 1 }],
      }),
    );
    // Independent failures, so they run side by side.
    const [invalid, missing, usage, unreachable, misconfigured] = await Promise.all([
      runSeed(['--file', badFile], env),
      runSeed(['--file', '/nonexistent/catalogue.json'], env),
      runSeed(['--frobnicate'], env),
      runSeed([], { ...env, PGPORT: '1' }),
      runSeed([], { ...env, PGPORT: 'five' }),
    ]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(`${badFile} is not a valid catalogue file`);
    expect(invalid.stderr).toContain('items.0.unitPrice');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/catalogue\.json: ENOENT/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown argument '--frobnicate'");
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach PostgreSQL at .*:1.*ECONNREFUSED/);
    expect(misconfigured.code).toBe(78);
    expect(misconfigured.stderr).toContain('PGPORT');
    rmSync(badFile);
  });
});
