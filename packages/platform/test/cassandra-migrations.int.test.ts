import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackAddresses } from '@dispatch/testkit';
import type { Client } from 'cassandra-driver';
import { createCassandraClient } from '../src/cassandra';
import { CassandraMigrationError, runCassandraMigrations } from '../src/cassandra-migrations';

const addresses = stackAddresses();
const cassandra = {
  contactPoints: addresses.cassandraContactPoints,
  localDataCenter: addresses.cassandraLocalDc,
  credentials: addresses.cassandraCredentials,
};
const replication = { class: 'SimpleStrategy', replicationFactor: 1 } as const;

describe('runCassandraMigrations (real Cassandra)', () => {
  // One keyspace for the whole file: Cassandra schema changes are slow.
  const keyspace = `it_mig_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const dir = mkdtempSync(join(tmpdir(), 'cql-migrations-'));
  let client: Client;

  beforeAll(async () => {
    client = createCassandraClient(cassandra);
    try {
      await client.connect();
    } catch (err) {
      throw new Error(
        `Cassandra is not reachable at ${cassandra.contactPoints.join(',')} ` +
          `(start it with 'pnpm stack up', or set CASSANDRA_CONTACT_POINTS): ${String(err)}`,
      );
    }
  });

  afterAll(async () => {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = () => runCassandraMigrations({ cassandra, keyspace, replication, migrations: dir });
  const tables = async () =>
    (
      await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace])
    ).rows
      .map((row) => row.get('table_name') as string)
      .sort();

  it('creates the keyspace and applies every file once, in order, even when two runs start together', async () => {
    writeFileSync(
      join(dir, '001_orders.cql'),
      `-- one row per order; the second statement depends on the first
       CREATE TABLE IF NOT EXISTS orders (order_id text PRIMARY KEY, note text);
       INSERT INTO orders (order_id, note) VALUES ('seed', 'a; b');`,
    );
    writeFileSync(
      join(dir, '002_timeline.cql'),
      'CREATE TABLE IF NOT EXISTS timeline (order_id text PRIMARY KEY);',
    );

    const [first, second] = await Promise.all([run(), run()]);
    // The lock serialises the runs: one applied both files, the other found nothing to do.
    expect([first, second].sort((a, b) => a.length - b.length)).toEqual([
      [],
      ['001_orders.cql', '002_timeline.cql'],
    ]);
    expect(await tables()).toEqual(['orders', 'schema_migrations', 'schema_migrations_lock', 'timeline']);
    const note = (
      await client.execute(`SELECT note FROM ${keyspace}.orders WHERE order_id = 'seed'`)
    ).first();
    expect(note?.get('note')).toBe('a; b');
    const recorded = await client.execute(`SELECT version, file_name FROM ${keyspace}.schema_migrations`);
    expect(recorded.rows.map((r) => r.get('file_name')).sort()).toEqual([
      '001_orders.cql',
      '002_timeline.cql',
    ]);
    const replicationRow = (
      await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [
        keyspace,
      ])
    ).first();
    expect(replicationRow?.get('replication')).toMatchObject({ replication_factor: '1' });
  });

  it('applies only a new file on the next run', async () => {
    writeFileSync(
      join(dir, '003_by_customer.cql'),
      'CREATE TABLE IF NOT EXISTS by_customer (c text PRIMARY KEY);',
    );
    expect(await run()).toEqual(['003_by_customer.cql']);
    expect(await run()).toEqual([]);
    expect(await tables()).toContain('by_customer');
  });

  it('refuses to run when an applied file was edited, naming it', async () => {
    writeFileSync(
      join(dir, '002_timeline.cql'),
      'CREATE TABLE IF NOT EXISTS timeline2 (id text PRIMARY KEY);',
    );
    const attempt = run();
    await expect(attempt).rejects.toThrow(CassandraMigrationError);
    await expect(attempt).rejects.toThrow(/002_timeline\.cql was changed after it was applied/);
    writeFileSync(
      join(dir, '002_timeline.cql'),
      'CREATE TABLE IF NOT EXISTS timeline (order_id text PRIMARY KEY);',
    );
  });

  it('reports which statement of which file failed, and records nothing for it', async () => {
    writeFileSync(
      join(dir, '004_broken.cql'),
      'CREATE TABLE IF NOT EXISTS ok_table (id text PRIMARY KEY);\nCREATE TABLEX nope;',
    );
    await expect(run()).rejects.toThrow(/004_broken\.cql, statement 2 of 2 failed/);
    const recorded = await client.execute(
      `SELECT version FROM ${keyspace}.schema_migrations WHERE version = 4`,
    );
    expect(recorded.rowLength).toBe(0);
    rmSync(join(dir, '004_broken.cql'));
    // The lock was released despite the failure.
    expect(await run()).toEqual([]);
  });
});
