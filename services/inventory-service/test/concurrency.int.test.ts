import type { AnyEvent, PricedLine } from '@dispatch/contracts';
import { createPool } from '@dispatch/platform';
import { metricValue, testPgConfig, uniqueName } from '@dispatch/testkit';
import type { Pool } from 'pg';
import {
  addItems,
  batchPipeline,
  createInventoryDatabase,
  orderCancelled,
  orderCreated,
  paymentFailed,
  pipeline,
  runConcurrently,
  stockOf,
  type TestDatabase,
  testItem,
  testLogger,
  testMetrics,
} from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

/**
 * Two service instances, simulated as two handler pipelines on two separate connection pools against
 * one real database, each handling its share of the events with several in flight at once.
 */
describe('reservations under concurrency across two instances (real PostgreSQL)', () => {
  let db: TestDatabase;
  let poolA: Pool;
  let poolB: Pool;

  beforeAll(async () => {
    db = await createInventoryDatabase('it_inventory_conc');
    poolA = db.newPool(10);
    poolB = db.newPool(10);
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** Samples an item's stock until stopped; every sample must be a consistent, non-negative state. */
  function watchStock(pool: Pool, itemId: string, total: number) {
    const samples: { available: number; reserved: number }[] = [];
    let running = true;
    const done = (async () => {
      while (running) samples.push(await stockOf(pool, itemId));
    })();
    return {
      samples,
      stop: async () => {
        running = false;
        await done;
        for (const s of samples) {
          expect(s.available).toBeGreaterThanOrEqual(0);
          expect(s.available + s.reserved).toBe(total);
        }
      },
    };
  }

  async function statusCounts(orderIds: string[]): Promise<Record<string, number>> {
    const result = await db.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM reservations WHERE order_id = ANY($1) GROUP BY status',
      [orderIds],
    );
    return Object.fromEntries(result.rows.map((r) => [r.status, r.n]));
  }

  async function outboxTypeCounts(orderIds: string[]): Promise<Record<string, number>> {
    const result = await db.pool.query<{ event_type: string; n: number }>(
      'SELECT event_type, count(*)::int AS n FROM outbox WHERE message_key = ANY($1) GROUP BY event_type',
      [orderIds],
    );
    return Object.fromEntries(result.rows.map((r) => [r.event_type, r.n]));
  }

  /**
   * Runs `work` on two pools of its own (two instances) and returns how many deadlocks PostgreSQL
   * detected meanwhile. withTransaction retries a transaction aborted by a deadlock, so a deadlock
   * shows only as a pause of deadlock_timeout; the database's counter sees each one. A backend reports
   * its counts when it exits, so the pools are closed (and their backends gone) before reading it.
   */
  async function deadlocksDuring(work: (a: Pool, b: Pool) => Promise<void>): Promise<number> {
    const read = async () => {
      const result = await db.pool.query<{ n: number }>(
        'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
      );
      return result.rows[0]?.n ?? 0;
    };
    const before = await read();
    const applicationName = uniqueName('instance');
    const pools = [1, 2].map(() =>
      createPool({ ...testPgConfig(db.name), max: 10, applicationName }, testLogger),
    ) as [Pool, Pool];
    try {
      await work(...pools);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    for (let i = 0; i < 100; i++) {
      const open = await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]);
      if (open.rowCount === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    return (await read()) - before;
  }

  it('200 orders of one unit against 10 available: exactly 10 reserved, 190 rejected, never below zero', async () => {
    const item = testItem({ unitPrice: '5.00', available: 10 });
    await addItems(db.pool, item);
    const events = Array.from({ length: 200 }, () =>
      orderCreated([{ itemId: item.itemId, quantity: 1, unitPrice: '5.00' }]),
    );
    const a = testMetrics();
    const b = testMetrics();
    const instanceA = pipeline(poolA, a.metrics);
    const instanceB = pipeline(poolB, b.metrics);
    const watcher = watchStock(db.newPool(1), item.itemId, 10);

    await Promise.all([
      runConcurrently(
        events.filter((_, i) => i % 2 === 0),
        10,
        instanceA,
      ),
      runConcurrently(
        events.filter((_, i) => i % 2 === 1),
        10,
        instanceB,
      ),
    ]);
    await watcher.stop();

    expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 0, reserved: 10 });
    const orderIds = events.map((e) => e.orderId);
    expect(await statusCounts(orderIds)).toEqual({ RESERVED: 10, REJECTED: 190 });
    expect(await outboxTypeCounts(orderIds)).toEqual({ 'inventory.reserved': 10, 'inventory.rejected': 190 });
    const rejections = await db.pool.query<{ reasons: unknown }>(
      `SELECT payload->'payload'->'reasons' AS reasons FROM outbox
        WHERE message_key = ANY($1) AND event_type = 'inventory.rejected'`,
      [orderIds],
    );
    for (const row of rejections.rows) {
      expect(row.reasons).toEqual([
        { itemId: item.itemId, reason: 'OUT_OF_STOCK', requestedQuantity: 1, availableQuantity: 0 },
      ]);
    }
    // Both instances did real work, and their counters add up.
    const reservedA = await metricValue(a.registry, 'inventory_reservations_total', { outcome: 'reserved' });
    const reservedB = await metricValue(b.registry, 'inventory_reservations_total', { outcome: 'reserved' });
    const rejectedA = await metricValue(a.registry, 'inventory_reservations_total', { outcome: 'rejected' });
    const rejectedB = await metricValue(b.registry, 'inventory_reservations_total', { outcome: 'rejected' });
    expect(reservedA + reservedB).toBe(10);
    expect(rejectedA + rejectedB).toBe(190);
    expect(rejectedA + reservedA).toBe(100);
    expect(watcher.samples.length).toBeGreaterThan(0);
  });

  it('multi-line orders in any line order, raced by their cancellations, keep every count exact', async () => {
    const items = [testItem({ available: 40 }), testItem({ available: 40 }), testItem({ available: 40 })];
    await addItems(db.pool, ...items);
    const [x, y, z] = items.map((i) => i.itemId) as [string, string, string];
    const line = (itemId: string, quantity: number): PricedLine => ({ itemId, quantity, unitPrice: '10.00' });
    // Lines listed in opposite orders, so a naive lock order would deadlock.
    const shapes = [
      [line(x, 1), line(y, 2), line(z, 1)],
      [line(z, 2), line(y, 1), line(x, 1)],
      [line(y, 1), line(x, 2)],
      [line(z, 1), line(x, 1)],
    ];
    const orders = Array.from({ length: 120 }, (_, i) => orderCreated(shapes[i % shapes.length] ?? []));
    // Every third order is cancelled, its cancellation racing its order.created on the other instance.
    const cancellations = orders.filter((_, i) => i % 3 === 0).map((o) => orderCancelled(o));
    const toA: AnyEvent[] = [];
    const toB: AnyEvent[] = [];
    for (const [i, order] of orders.entries()) (i % 2 === 0 ? toA : toB).push(order);
    // Each cancellation goes to the other instance than its order, at the front: some overtake it.
    for (const [i, cancellation] of cancellations.entries()) (i % 2 === 0 ? toB : toA).unshift(cancellation);

    await Promise.all([runConcurrently(toA, 8, pipeline(poolA)), runConcurrently(toB, 8, pipeline(poolB))]);

    const orderIds = orders.map((o) => o.orderId);
    const cancelledIds = new Set(cancellations.map((c) => c.orderId));
    const held = await db.pool.query<{ item_id: string; held: number }>(
      `SELECT l.item_id, sum(l.quantity)::int AS held
         FROM reservation_lines l JOIN reservations r USING (order_id)
        WHERE r.status = 'RESERVED' AND r.order_id = ANY($1)
        GROUP BY l.item_id`,
      [orderIds],
    );
    const heldByItem = new Map(held.rows.map((r) => [r.item_id, r.held]));
    for (const item of items) {
      const stock = await stockOf(db.pool, item.itemId);
      expect(stock.available).toBeGreaterThanOrEqual(0);
      expect(stock.available + stock.reserved).toBe(40); // nothing lost or created
      expect(stock.reserved).toBe(heldByItem.get(item.itemId) ?? 0); // reserved = what open orders hold
    }
    // Every cancelled order ends released (whether the cancellation came first or second), and says so once.
    const statuses = await db.pool.query<{ order_id: string; status: string }>(
      'SELECT order_id, status FROM reservations WHERE order_id = ANY($1)',
      [orderIds],
    );
    expect(statuses.rowCount).toBe(120);
    for (const row of statuses.rows) {
      if (cancelledIds.has(row.order_id)) expect(row.status).toBe('RELEASED');
      else expect(['RESERVED', 'REJECTED']).toContain(row.status);
    }
    const releases = await db.pool.query<{ message_key: string; n: number }>(
      `SELECT message_key, count(*)::int AS n FROM outbox
        WHERE event_type = 'inventory.released' AND message_key = ANY($1) GROUP BY message_key`,
      [orderIds],
    );
    const releasedIds = new Set(releases.rows.map((r) => r.message_key));
    expect(releases.rows.every((r) => r.n === 1)).toBe(true);
    // Cancelled orders that had been rejected have nothing to release; all others announce it.
    const rejectedCancelled = await db.pool.query<{ order_id: string }>(
      `SELECT r.order_id FROM reservations r WHERE r.order_id = ANY($1)
          AND EXISTS (SELECT 1 FROM outbox o WHERE o.message_key = r.order_id AND o.event_type = 'inventory.rejected')`,
      [[...cancelledIds]],
    );
    expect(releasedIds.size + (rejectedCancelled.rowCount ?? 0)).toBe(cancelledIds.size);
  });

  it('batches of many orders on two instances, their compensations batched in the opposite order, never deadlock', async () => {
    const items = [testItem({ available: 500 }), testItem({ available: 500 }), testItem({ available: 500 })];
    await addItems(db.pool, ...items);
    const [x, y, z] = items.map((i) => i.itemId) as [string, string, string];
    const line = (itemId: string, quantity: number): PricedLine => ({ itemId, quantity, unitPrice: '10.00' });
    const shapes = [[line(x, 1), line(y, 2), line(z, 1)], [line(z, 2), line(x, 1)], [line(y, 1)]];
    const orders = Array.from({ length: 96 }, (_, i) => orderCreated(shapes[i % shapes.length] ?? []));
    const chunks = <T>(list: readonly T[], size: number): T[][] =>
      Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
    // Instance A applies the orders in batches of 8, three partitions at once; instance B applies their
    // payment.failed at the same time, the same batches each in the reverse order (as another topic's
    // partition holds them). Taking each event's locks as it comes, two batches would each hold an
    // order (and items) the other waits for.
    const batchesA = chunks(orders, 8);
    const batchesB = batchesA.map((batch) => [...batch].reverse().map((o) => paymentFailed(o)));

    const deadlocks = await deadlocksDuring(async (poolA, poolB) => {
      const a = batchPipeline(poolA);
      const b = batchPipeline(poolB);
      await Promise.all([runConcurrently(batchesA, 3, a), runConcurrently(batchesB, 3, b)]);
    });

    expect(deadlocks).toBe(0);

    // Whichever came first, every order ends released, announced once, and all stock is back.
    for (const item of items)
      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 500, reserved: 0 });
    const orderIds = orders.map((o) => o.orderId);
    const statuses = await db.pool.query<{ status: string; order_seen: boolean; n: number }>(
      `SELECT status, order_seen, count(*)::int AS n FROM reservations WHERE order_id = ANY($1)
        GROUP BY status, order_seen`,
      [orderIds],
    );
    expect(statuses.rows).toEqual([{ status: 'RELEASED', order_seen: true, n: 96 }]);
    const types = await outboxTypeCounts(orderIds);
    expect(types['inventory.released']).toBe(96);
    expect(types['inventory.rejected']).toBeUndefined();
  });
});
