import type { AnyEvent } from '@dispatch/contracts';
import { followUp } from '@dispatch/contracts';
import { metricValue } from '@dispatch/testkit';
import { ReservationNotFoundError } from '../src/handlers/delivery-completed';
import type { ItemDefinition } from '../src/store/catalogue-store';
import {
  addItems,
  batchPipeline,
  deliveryCompleted,
  orderCancelled,
  orderCreated,
  outboxEvents,
  reservationOf,
  stockOf,
  testItem,
  useHandlerDatabase,
} from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

/** The handlers against a real, fresh PostgreSQL database, called as the consumer calls them: several events in one transaction. */
describe('inventory handlers (real PostgreSQL)', () => {
  const t = useHandlerDatabase();
  const { handle, inboxCount, metrics, registry } = t;

  describe('a batch of several events in one transaction', () => {
    /**
     * Three orders over two items, one cancelled, with a redelivered event and a type inventory does
     * not act on among them: fresh items and orders each time, so the same scenario can be applied
     * once as a batch and once event by event.
     */
    async function scenario() {
      // x sorts before y in every run, so lines listed in itemId order compare equal across runs.
      const prefix = testItem().itemId;
      const x = testItem({ itemId: `${prefix}-x`, unitPrice: '3.00', available: 10 });
      const y = testItem({ itemId: `${prefix}-y`, unitPrice: '5.00', available: 5 });
      await addItems(t.db.pool, x, y);
      // Lines in opposite orders; o3 asks for more y than o1 and o2 leave (5 - 1 - 3 = 1 < 2).
      const o1 = orderCreated([
        { itemId: x.itemId, quantity: 2, unitPrice: '3.00' },
        { itemId: y.itemId, quantity: 1, unitPrice: '5.00' },
      ]);
      const o2 = orderCreated([
        { itemId: y.itemId, quantity: 3, unitPrice: '5.00' },
        { itemId: x.itemId, quantity: 1, unitPrice: '3.00' },
      ]);
      const o3 = orderCreated([{ itemId: y.itemId, quantity: 2, unitPrice: '5.00' }]);
      const authorized = followUp(o1, 'payment.authorized', {
        paymentId: `pay-${o1.orderId}`,
        orderId: o1.orderId,
        amount: '11.00',
        currency: 'EUR',
        status: 'AUTHORIZED',
      });
      const cancelled = orderCancelled(o2);
      const events: AnyEvent[] = [o1, o2, o1, o3, authorized, cancelled, o2];
      return { items: [x, y] as const, orders: [o1, o2, o3] as const, events, cancelled };
    }

    /** What the scenario left behind, with its ids replaced by their position, to compare two runs. */
    async function endState(items: readonly ItemDefinition[], orders: readonly AnyEvent[]) {
      const ids = new Map<string, string>([
        ...items.map((item, i): [string, string] => [item.itemId, `item${i}`]),
        ...orders.map((order, i): [string, string] => [order.orderId, `order${i}`]),
      ]);
      const anonymous = (value: unknown) =>
        JSON.parse(JSON.stringify(value, (_key, v) => (typeof v === 'string' ? (ids.get(v) ?? v) : v)));
      return {
        stock: await Promise.all(items.map((item) => stockOf(t.db.pool, item.itemId))),
        reservations: await Promise.all(orders.map((order) => reservationOf(t.db.pool, order.orderId))),
        events: await Promise.all(
          orders.map(async (order) =>
            (await outboxEvents(t.db.pool, order.orderId)).map((e) => ({
              eventType: e.eventType,
              payload: anonymous({ ...e.payload, customerId: undefined }),
            })),
          ),
        ),
      };
    }

    it('ends as the same events handled one at a time would, each first delivery once', async () => {
      const batched = await scenario();
      const single = await scenario();
      const releasesBefore = await metricValue(registry, 'inventory_releases_total', {
        reason: 'ORDER_CANCELLED',
      });

      await batchPipeline(t.db.pool, metrics)(batched.events);
      for (const event of single.events) await handle(event);

      const state = await endState(batched.items, batched.orders);
      expect(state).toEqual(await endState(single.items, single.orders));
      // And that state is the right one: o1 holds its lines, o2 was reserved then released, o3 rejected.
      expect(state.stock).toEqual([
        { available: 8, reserved: 2 },
        { available: 4, reserved: 1 },
      ]);
      expect(state.reservations.map((r) => r?.status)).toEqual(['RESERVED', 'RELEASED', 'REJECTED']);
      expect(state.events.map((events) => events.map((e) => e.eventType))).toEqual([
        ['inventory.reserved'],
        ['inventory.reserved', 'inventory.released'],
        ['inventory.rejected'],
      ]);
      expect(state.events[2]?.[0]?.payload).toMatchObject({
        reasons: [{ itemId: 'item1', reason: 'OUT_OF_STOCK', requestedQuantity: 2, availableQuantity: 1 }],
      });
      const [o1, o2] = batched.orders;
      expect(await inboxCount(o1.eventId)).toBe(1);
      expect(await inboxCount(o2.eventId)).toBe(1);
      // The released event names the cancellation as its cause, as when handled alone.
      expect((await outboxEvents(t.db.pool, o2.orderId))[1]).toMatchObject({
        causationId: batched.cancelled.eventId,
      });
      // Metrics count each run's effects once, after its commit.
      expect(await metricValue(registry, 'inventory_releases_total', { reason: 'ORDER_CANCELLED' })).toBe(
        releasesBefore + 2,
      );
    });

    it('a step that throws rolls the whole batch back; one at a time, the others then go through', async () => {
      const item = testItem({ available: 10 });
      await addItems(t.db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity: 4, unitPrice: '10.00' }]);
      const stray = deliveryCompleted(
        orderCreated([{ itemId: item.itemId, quantity: 1, unitPrice: '10.00' }]),
      );

      await expect(batchPipeline(t.db.pool, metrics)([created, stray])).rejects.toThrow(
        ReservationNotFoundError,
      );

      // Nothing of the batch took effect, inbox records included.
      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationOf(t.db.pool, created.orderId)).toBeUndefined();
      expect(await outboxEvents(t.db.pool, created.orderId)).toEqual([]);
      expect(await inboxCount(created.eventId)).toBe(0);

      // What the consumer does next: each event as a batch of one.
      await handle(created);
      await expect(handle(stray)).rejects.toThrow(ReservationNotFoundError);
      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 6, reserved: 4 });
      expect((await outboxEvents(t.db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
      ]);
    });
  });
});
