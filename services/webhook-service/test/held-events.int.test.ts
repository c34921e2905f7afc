import { type AnyEvent, followUp } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import { withTransaction } from '@dispatch/platform';
import {
  assertStackReachable,
  createTestDatabase,
  createTestLogger,
  orderCreatedEvent,
  readsDuring,
  shortId,
  type TestDatabase,
} from '@dispatch/testkit';
import type { Pool } from 'pg';
import { admitEvents, lockOrders } from '../src/store/events';
import { MIGRATIONS_DIR } from '../src/store/migrations';

/**
 * Admitting a batch reads the held events of the batch's orders by key, not every held event:
 * against a database that holds hundreds of other orders' events and whose statistics were taken
 * while nothing was held (the planner then thinks the held index is empty, cheapest to scan whole).
 */
describe('admitting events (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    await assertStackReachable(['postgres']);
    db = await createTestDatabase({
      prefix: 'webhook_it',
      migrationsDir: MIGRATIONS_DIR,
      poolMax: 2,
      logger: createTestLogger('webhook-test'),
    });
    pool = db.newPool(1);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const admit = (events: readonly AnyEvent[]) =>
    withTransaction(pool, async (tx) => {
      await lockOrders(
        tx,
        events.map((e) => e.orderId),
      );
      return admitEvents(tx, events, []);
    });

  it('reads the held events of the batch’s orders only, however many others are held', async () => {
    // 100,000 released events of earlier orders, statistics taken, then 300 effects whose cause never came.
    await db.pool.query(
      `INSERT INTO webhook_events (event_id, order_id, event_type, occurred_at, body, released_at)
       SELECT gen_random_uuid(), 'earlier-' || g, 'order.created', now(), '{}', now() FROM generate_series(1, 100000) g`,
    );
    await db.pool.query('ANALYZE webhook_events');
    const held = 300;
    await db.pool.query(
      `INSERT INTO webhook_events (event_id, order_id, event_type, causation_id, occurred_at, body)
       SELECT gen_random_uuid(), 'orphan-' || g, 'inventory.reserved', gen_random_uuid(), now(), '{}'
         FROM generate_series(1, $1::int) g`,
      [held],
    );

    const orders = 40;
    const created = Array.from({ length: orders }, () =>
      orderCreatedEvent(sampleOrderCreatedPayload(`order-wh-${shortId()}`)),
    );
    const effects = created.map((c) =>
      followUp(c, 'order.cancelled', { orderId: c.orderId, cancelledBy: 'CUSTOMER', reason: 'test' }),
    );
    let released = 0;
    const causes = await readsDuring(pool, 'webhook_events', async () => {
      released = await admit(created);
    });
    expect(released).toBe(orders);
    const effectsReads = await readsDuring(pool, 'webhook_events', async () => {
      released = await admit(effects);
    });
    expect(released).toBe(orders);

    for (const reads of [causes, effectsReads]) {
      expect(reads['sequential scans']).toBeUndefined();
      expect(['webhook_events_pkey', 'webhook_events_held', 'webhook_events_seq_key']).toEqual(
        expect.arrayContaining(Object.keys(reads)),
      );
      // The batch's own entries (and those its orders' earlier releases left until VACUUM), a few
      // times over: never the 300 held events of other orders.
      expect(reads.webhook_events_held ?? 0).toBeLessThan(held);
    }
    const stillHeld = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM webhook_events WHERE released_at IS NULL',
    );
    expect(Number(stillHeld.rows[0]?.n)).toBe(held);
  });
});
