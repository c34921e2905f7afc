import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createCassandraClient, grantServiceKeyspace } from '@dispatch/platform';
import { shortId, stackAddresses, stackDir } from '@dispatch/testkit';
import type { Client } from 'cassandra-driver';
import { prepareSchema } from '../src/schema';
import { GenerationStore } from '../src/store/generations';
import { cassandraClient, dropKeyspaces, testConfig, testLogger } from './helpers';

/**
 * query-api's Cassandra role as `./dispatch up` makes it (tools/stack/cassandra-auth.ts): it may use
 * the keyspaces an admin created and granted it, and nothing else.
 */
const addresses = stackAddresses();
const ROLE = 'query_api';

function queryApiPassword(): string {
  const file = path.join(stackDir(), 'secrets', 'cassandra', 'query-api.password');
  if (process.env.QUERY_API_CASSANDRA_PASSWORD) return process.env.QUERY_API_CASSANDRA_PASSWORD;
  if (!existsSync(file)) {
    throw new Error(`no ${file}: run ./dispatch up (or set QUERY_API_CASSANDRA_PASSWORD for a cluster)`);
  }
  return readFileSync(file, 'utf8').trim();
}

describe('the query_api Cassandra role (real Cassandra with authentication)', () => {
  const keyspace = `qa_role_${shortId()}`;
  const scratch = `qa_other_${shortId()}`;
  const credentials = { username: ROLE, password: queryApiPassword() };
  const config = testConfig({
    CASSANDRA_KEYSPACE: keyspace,
    CASSANDRA_USERNAME: credentials.username,
    CASSANDRA_PASSWORD: credentials.password,
  });
  let admin: Client;
  let own: Client;

  beforeAll(async () => {
    admin = cassandraClient();
    // As the launcher does for delivery_query: an admin creates the keyspaces and grants them.
    for (const name of [keyspace, `${keyspace}_g1`, scratch]) {
      await admin.execute(
        `CREATE KEYSPACE ${name} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
    }
    await grantServiceKeyspace(admin, keyspace, ROLE);
    await grantServiceKeyspace(admin, `${keyspace}_g1`, ROLE);
    await admin.execute(`CREATE TABLE ${scratch}.secrets (id text PRIMARY KEY, value text)`);
    await admin.execute(`INSERT INTO ${scratch}.secrets (id, value) VALUES ('a', 'not for query-api')`);
    own = createCassandraClient({
      contactPoints: addresses.cassandraContactPoints,
      localDataCenter: addresses.cassandraLocalDc,
      credentials,
    });
    await own.connect();
  });

  afterAll(async () => {
    await own?.shutdown();
    await admin?.execute(`DROP KEYSPACE IF EXISTS ${scratch}`).catch(() => undefined);
    await admin?.shutdown();
    await dropKeyspaces(keyspace);
  });

  it('applies its migrations in its granted keyspaces and reads and writes its read model', async () => {
    const state = await prepareSchema(config, new GenerationStore(own, keyspace), testLogger);
    expect(state.active).toBe(1);
    const orderId = `order-${shortId()}`;
    await own.execute(`INSERT INTO ${keyspace}_g1.orders (order_id, order_customer_id) VALUES (?, ?)`, [
      orderId,
      'customer-1',
    ]);
    const row = (
      await own.execute(`SELECT order_customer_id FROM ${keyspace}_g1.orders WHERE order_id = ?`, [orderId])
    ).first();
    expect(row?.get('order_customer_id')).toBe('customer-1');
  });

  it('reads the stack’s own read model keyspace, which up granted it', async () => {
    const result = await own.execute('SELECT name, active FROM delivery_query.read_model_generations');
    expect(result.rows.map((row) => row.get('name'))).toContain('orders');
  });

  it('may not create a keyspace', async () => {
    await expect(
      own.execute(
        `CREATE KEYSPACE qa_forbidden_${shortId()} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      ),
    ).rejects.toThrow(/has no CREATE permission on <all keyspaces>/);
    // Nor a generation of its own: a rebuild (as an operator role) creates those.
    const missing = testConfig({
      CASSANDRA_KEYSPACE: `qa_missing_${shortId()}`,
      CASSANDRA_USERNAME: credentials.username,
      CASSANDRA_PASSWORD: credentials.password,
    });
    await expect(
      prepareSchema(missing, new GenerationStore(own, missing.CASSANDRA_KEYSPACE), testLogger),
    ).rejects.toThrow(/does not exist and role query_api may not create it/);
  });

  it("may read neither another keyspace nor the roles' password hashes", async () => {
    await expect(own.execute(`SELECT value FROM ${scratch}.secrets`)).rejects.toThrow(
      /has no SELECT permission on <table .*secrets> or any of its parents/,
    );
    await expect(own.execute(`INSERT INTO ${scratch}.secrets (id, value) VALUES ('b', 'x')`)).rejects.toThrow(
      /has no MODIFY permission/,
    );
    await expect(own.execute('SELECT role, salted_hash FROM system_auth.roles')).rejects.toThrow(
      /has no SELECT permission on <table system_auth\.roles>/,
    );
  });

  it('may not grant itself more, nor drop its keyspace', async () => {
    await expect(own.execute(`GRANT SELECT ON KEYSPACE ${scratch} TO ${ROLE}`)).rejects.toThrow(
      /has no AUTHORIZE permission/,
    );
    await expect(own.execute(`DROP KEYSPACE ${keyspace}_g1`)).rejects.toThrow(/has no DROP permission/);
  });
});
