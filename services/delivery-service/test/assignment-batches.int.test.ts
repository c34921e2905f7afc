import type { AnyEvent, EventEnvelope } from '@dispatch/contracts';
import { metricValue } from '@dispatch/testkit';
import type { Pool } from 'pg';
import {
  createDeliveryDatabase,
  createInstance,
  deadlocksDuring,
  freshOrderId,
  type Instance,
  insertDrivers,
  ManualClock,
  orderCancelled,
  orderCreated,
  outboxTypes,
  paymentAuthorized,
  useAssignmentDatabase,
} from './helpers';

/**
 * The handler pipelines (inbox → decision → store → outbox) against a fresh real database, with a
 * clock the test moves. Two instances = two pools and two handlers on the same database, as two
 * delivery-service processes would be. Here: several events handled in one transaction.
 */
describe('driver assignment (real PostgreSQL)', () => {
  const t = useAssignmentDatabase();

  describe('batches: several events in one transaction', () => {
    /**
     * Four orders and two drivers, over three batches as the consumer would fetch them (a payment
     * batch, an order batch, a payment batch), with redelivered events inside them: o4 is paid before
     * its order.created (parked, then assigned when the address arrives), o3 is cancelled before its
     * payment, o1 and o2 are paid together when only one driver is left. `apply` runs the batches.
     */
    async function scenario(instance: Instance, apply: (batches: AnyEvent[][]) => Promise<void>) {
      await insertDrivers(instance.pool, [{ driverId: 'd1' }, { driverId: 'd2' }]);
      const [o1, o2, o3, o4] = Array.from({ length: 4 }, () => orderCreated(freshOrderId())) as [
        EventEnvelope<'order.created'>,
        EventEnvelope<'order.created'>,
        EventEnvelope<'order.created'>,
        EventEnvelope<'order.created'>,
      ];
      const [p1, p2, p3, p4] = [o1, o2, o3, o4].map((o) => paymentAuthorized(o)) as [
        EventEnvelope<'payment.authorized'>,
        EventEnvelope<'payment.authorized'>,
        EventEnvelope<'payment.authorized'>,
        EventEnvelope<'payment.authorized'>,
      ];
      await apply([[p4], [o1, o2, o1, orderCancelled(o3), o3, o4], [p1, p2, p3, p1]]);
      return { orders: [o1, o2, o3, o4], duplicates: [o1, p1] };
    }

    /** The deliveries, drivers and outbox, with order and delivery ids replaced by the order's position. */
    async function endState(pool: Pool, orders: readonly AnyEvent[]) {
      const deliveries = await pool.query<{
        order_id: string;
        delivery_id: string;
        status: string;
        driver_id: string | null;
      }>('SELECT order_id, delivery_id, status, driver_id FROM deliveries WHERE order_id = ANY($1)', [
        orders.map((o) => o.orderId),
      ]);
      const position = (orderId: string) => orders.findIndex((o) => o.orderId === orderId);
      const byDelivery = new Map(deliveries.rows.map((d) => [d.delivery_id, position(d.order_id)]));
      const drivers = await pool.query<{ driver_id: string; active_delivery_id: string | null }>(
        'SELECT driver_id, active_delivery_id FROM drivers ORDER BY driver_id',
      );
      return {
        deliveries: orders.map((o) => {
          const d = deliveries.rows.find((row) => row.order_id === o.orderId);
          return d ? { status: d.status, driver: d.driver_id } : undefined;
        }),
        drivers: drivers.rows.map((d) => ({
          driver: d.driver_id,
          order: d.active_delivery_id === null ? null : byDelivery.get(d.active_delivery_id),
        })),
        outbox: await Promise.all(orders.map((o) => outboxTypes(pool, o.orderId))),
      };
    }

    it('several orders with duplicates in a batch end as the same events one at a time', async () => {
      const clock = new ManualClock();
      const batched = createInstance(t.db, t.config, clock);
      const other = await createDeliveryDatabase();
      try {
        const single = createInstance(other, t.config, clock);
        const a = await scenario(batched, async (batches) => {
          for (const batch of batches) await batched.handleBatch(batch);
        });
        const b = await scenario(single, async (batches) => {
          for (const event of batches.flat()) await single.handle(event);
        });

        const state = await endState(batched.pool, a.orders);
        expect(state).toEqual(await endState(single.pool, b.orders));
        expect(state).toEqual({
          deliveries: [
            { status: 'ASSIGNED', driver: 'd2' },
            { status: 'PENDING', driver: null },
            { status: 'CANCELLED', driver: null },
            { status: 'ASSIGNED', driver: 'd1' },
          ],
          drivers: [
            { driver: 'd1', order: 3 },
            { driver: 'd2', order: 0 },
          ],
          outbox: [['delivery.assigned', 'eta.updated'], [], [], ['delivery.assigned', 'eta.updated']],
        });
        for (const duplicate of a.duplicates) {
          const inbox = await batched.pool.query('SELECT 1 FROM inbox WHERE event_id = $1', [
            duplicate.eventId,
          ]);
          expect(inbox.rowCount).toBe(1);
        }
        // Metrics count what committed, once per attempt, in both runs.
        for (const instance of [batched, single]) {
          expect(
            await metricValue(instance.registry, 'delivery_assignments_total', { outcome: 'assigned' }),
          ).toBe(2);
          expect(await metricValue(instance.registry, 'delivery_eta_updates_total')).toBe(2);
        }
      } finally {
        await other.drop();
      }
    });

    it('a batch of payments never gives one driver twice', async () => {
      const clock = new ManualClock();
      const instance = createInstance(t.db, t.config, clock);
      await insertDrivers(instance.pool, [{ driverId: 'd1' }, { driverId: 'd2' }, { driverId: 'd3' }]);
      const orders = Array.from({ length: 5 }, () => orderCreated(freshOrderId()));
      await instance.handleBatch(orders);

      await instance.handleBatch(orders.map((o) => paymentAuthorized(o)));

      const result = await instance.pool.query<{ status: string; driver_id: string | null }>(
        'SELECT status, driver_id FROM deliveries ORDER BY driver_id',
      );
      expect(result.rows).toEqual([
        { status: 'ASSIGNED', driver_id: 'd1' },
        { status: 'ASSIGNED', driver_id: 'd2' },
        { status: 'ASSIGNED', driver_id: 'd3' },
        { status: 'PENDING', driver_id: null },
        { status: 'PENDING', driver_id: null },
      ]);
      const busy = await instance.pool.query(
        `SELECT 1 FROM drivers d JOIN deliveries x ON x.delivery_id = d.active_delivery_id AND x.driver_id = d.driver_id`,
      );
      expect(busy.rowCount).toBe(3);
    });

    it('order batches and payment batches of the same orders, in opposite orders on two instances, never deadlock', async () => {
      const clock = new ManualClock();
      const drivers = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
      await insertDrivers(
        createInstance(t.db, t.config, clock).pool,
        drivers.map((driverId) => ({ driverId })),
      );
      const orders = Array.from({ length: 48 }, () => orderCreated(freshOrderId()));
      const cancelled = new Set(orders.filter((_, i) => i % 4 === 0).map((o) => o.orderId));
      const chunks = <T>(list: readonly T[], size: number): T[][] =>
        Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
      // Instance A: the order topic's batches (each order's order.created, every fourth one's
      // order.cancelled right after it); instance B: the payment topic's, each batch in reverse.
      const orderBatches = chunks(orders, 8).map((batch) =>
        batch.flatMap((o): AnyEvent[] => (cancelled.has(o.orderId) ? [o, orderCancelled(o)] : [o])),
      );
      const paymentBatches = chunks(orders, 8).map((batch) =>
        [...batch].reverse().map((o) => paymentAuthorized(o)),
      );
      const inParallel = async (batches: AnyEvent[][], handle: (batch: AnyEvent[]) => Promise<void>) => {
        let next = 0;
        const worker = async () => {
          while (next < batches.length) await handle(batches[next++] ?? []);
        };
        await Promise.all([worker(), worker(), worker()]);
      };

      const deadlocks = await deadlocksDuring(t.db, 2, async ([poolA, poolB]) => {
        const a = createInstance(t.db, t.config, clock, poolA);
        const b = createInstance(t.db, t.config, clock, poolB);
        await Promise.all([
          inParallel(orderBatches, a.handleBatch),
          inParallel(paymentBatches, b.handleBatch),
        ]);
      });

      expect(deadlocks).toBe(0);
      const pool = t.db.newPool();
      const deliveries = await pool.query<{
        order_id: string;
        delivery_id: string;
        status: string;
        driver_id: string | null;
      }>('SELECT order_id, delivery_id, status, driver_id FROM deliveries');
      expect(deliveries.rowCount).toBe(48);
      for (const d of deliveries.rows) {
        if (cancelled.has(d.order_id)) expect(d.status).toBe('CANCELLED');
        else expect(['ASSIGNED', 'PENDING']).toContain(d.status);
      }
      // No driver twice, and every busy driver is on exactly the delivery that names it.
      const active = deliveries.rows.filter((d) => d.status === 'ASSIGNED');
      expect(active.length).toBeGreaterThan(0);
      expect(new Set(active.map((d) => d.driver_id)).size).toBe(active.length);
      const busy = await pool.query<{ driver_id: string; active_delivery_id: string }>(
        'SELECT driver_id, active_delivery_id FROM drivers WHERE active_delivery_id IS NOT NULL',
      );
      expect(new Map(busy.rows.map((r) => [r.driver_id, r.active_delivery_id]))).toEqual(
        new Map(active.map((d) => [d.driver_id, d.delivery_id])),
      );
    });
  });
});
