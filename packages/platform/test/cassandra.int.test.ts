import { randomUUID } from 'node:crypto';
import { stackAddresses } from '@dispatch/testkit';
import type { Client } from 'cassandra-driver';
import { cassandraHealthCheck, createCassandraClient } from '../src/cassandra';

const addresses = stackAddresses();

describe('Cassandra (real server)', () => {
  let client: Client;
  const keyspace = `it_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

  beforeAll(async () => {
    client = createCassandraClient({
      contactPoints: addresses.cassandraContactPoints,
      localDataCenter: addresses.cassandraLocalDc,
      credentials: addresses.cassandraCredentials,
    });
    try {
      await client.connect();
    } catch (err) {
      throw new Error(
        `Cassandra is not reachable at ${addresses.cassandraContactPoints.join(',')} ` +
          `(start it with ./dispatch up, or set CASSANDRA_CONTACT_POINTS): ${String(err)}`,
      );
    }
    await client.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(
      `CREATE TABLE ${keyspace}.orders (order_id text PRIMARY KEY, status text, total decimal, eta timestamp)`,
    );
  });

  afterAll(async () => {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
  });

  it('passes its health check', async () => {
    await expect(cassandraHealthCheck(client).check()).resolves.toBeUndefined();
  });

  it('round-trips a row with typed columns', async () => {
    const orderId = randomUUID();
    const eta = new Date('2026-11-21T18:30:00.000Z');
    await client.execute(
      `INSERT INTO ${keyspace}.orders (order_id, status, total, eta) VALUES (?, ?, ?, ?)`,
      [orderId, 'CREATED', '42.50', eta],
    );
    const result = await client.execute(
      `SELECT status, total, eta FROM ${keyspace}.orders WHERE order_id = ?`,
      [orderId],
    );
    const row = result.first();
    expect(row.get('status')).toBe('CREATED');
    expect(row.get('total').toString()).toBe('42.50');
    expect((row.get('eta') as Date).toISOString()).toBe(eta.toISOString());
  });

  it('keeps the write with the newest USING TIMESTAMP whatever the arrival order', async () => {
    const orderId = randomUUID();
    const write = (status: string, micros: number) =>
      client.execute(`INSERT INTO ${keyspace}.orders (order_id, status) VALUES (?, ?) USING TIMESTAMP ?`, [
        orderId,
        status,
        micros,
      ]);
    await write('NEWER', 2_000_000);
    await write('OLDER', 1_000_000);
    const row = (
      await client.execute(`SELECT status FROM ${keyspace}.orders WHERE order_id = ?`, [orderId])
    ).first();
    expect(row.get('status')).toBe('NEWER');
  });
});
