/**
 * The running stack's services use PostgreSQL as their own login roles, never as the superuser:
 * every session a service (or an extra instance the tests start) holds is its role's. The refusals
 * themselves are proved in tools/stack/test/postgres-roles.int.test.ts.
 */
import { createPool } from '@dispatch/platform';
import {
  type ExtraInstance,
  eventually,
  freePort,
  requireRunningServices,
  type ServiceName,
  stackAddresses,
  startExtraInstance,
} from '@dispatch/testkit';

jest.setTimeout(180_000);

const ROLES: [ServiceName, string, string][] = [
  ['order-service', 'order_service', 'order_db'],
  ['payment-service', 'payment_service', 'payment_db'],
  ['inventory-service', 'inventory_service', 'inventory_db'],
  ['delivery-service', 'delivery_service', 'delivery_db'],
  ['webhook-service', 'webhook_service', 'webhook_db'],
];

const admin = createPool({ ...stackAddresses().pg, database: 'postgres', max: 1 });

/**
 * Which roles hold the sessions a service opened on its database (its pool and its outbox relay;
 * services that integration tests run in-process use scratch databases).
 */
async function sessionsOf(
  service: string,
  database: string,
): Promise<{ usename: string; sessions: number }[]> {
  const { rows } = await admin.query<{ usename: string; sessions: number }>(
    `SELECT usename, count(*)::int AS sessions FROM pg_stat_activity
     WHERE application_name IN ($1, $1 || '-outbox') AND datname = $2 GROUP BY usename ORDER BY usename`,
    [service, database],
  );
  return rows;
}

beforeAll(async () => {
  await requireRunningServices(ROLES.map(([name]) => name));
});
afterAll(() => admin.end());

test.each(ROLES)('%s connects as %s only', async (service, role, database) => {
  const sessions = await sessionsOf(service, database);
  expect(sessions.map((s) => s.usename)).toEqual([role]);
});

describe('an extra instance started by a test', () => {
  let extra: ExtraInstance | undefined;
  afterAll(() => extra?.stop());

  test('uses the same role as the first one', async () => {
    const [before] = await sessionsOf('inventory-service', 'inventory_db');
    extra = await startExtraInstance('inventory-service', await freePort());
    await eventually(async () => {
      const sessions = await sessionsOf('inventory-service', 'inventory_db');
      expect(sessions.map((s) => s.usename)).toEqual(['inventory_service']);
      expect(sessions[0]!.sessions).toBeGreaterThan(before!.sessions);
    });
  });
});
