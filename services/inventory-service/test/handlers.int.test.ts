import type { AnyEvent, EventEnvelope } from '@dispatch/contracts';
import { followUp } from '@dispatch/contracts';
import { metricValue } from '@dispatch/testkit';
import { ReservationNotFoundError } from '../src/handlers/delivery-completed';
import type { ItemDefinition } from '../src/store/catalogue-store';
import {
  addItems,
  batchPipeline,
  createInventoryDatabase,
  deliveryCompleted,
  deliveryFailed,
  orderCancelled,
  orderCreated,
  outboxEvents,
  paymentFailed,
  paymentRefunded,
  pipeline,
  reservationOf,
  stockOf,
  type TestDatabase,
  testItem,
  testMetrics,
} from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

/** The handlers against a real, fresh PostgreSQL database, called as the consumer calls them. */
describe('inventory handlers (real PostgreSQL)', () => {
  let db: TestDatabase;
  let handle: (event: AnyEvent) => Promise<void>;
  const { metrics, registry } = testMetrics();

  beforeAll(async () => {
    db = await createInventoryDatabase();
    handle = pipeline(db.pool, metrics);
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function inboxCount(eventId: string): Promise<number> {
    const result = await db.pool.query('SELECT count(*)::int AS n FROM inbox WHERE event_id = $1', [eventId]);
    return result.rows[0].n;
  }

  describe('order.created', () => {
    it('reserves every line at catalogue prices and emits inventory.reserved with the amount', async () => {
      const beans = testItem({ unitPrice: '12.50', available: 10 });
      const frother = testItem({ unitPrice: '39.99', available: 1 });
      await addItems(db.pool, beans, frother);
      const created = orderCreated([
        { itemId: beans.itemId, quantity: 2, unitPrice: '12.50' },
        { itemId: frother.itemId, quantity: 1, unitPrice: '39.99' },
      ]);
      const reservedBefore = await metricValue(registry, 'inventory_reservations_total', {
        outcome: 'reserved',
      });

      await handle(created);

      expect(await stockOf(db.pool, beans.itemId)).toEqual({ available: 8, reserved: 2 });
      expect(await stockOf(db.pool, frother.itemId)).toEqual({ available: 0, reserved: 1 });
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({ status: 'RESERVED' });
      const [reserved, ...rest] = await outboxEvents(db.pool, created.orderId);
      expect(rest).toEqual([]);
      expect(reserved).toMatchObject({
        eventType: 'inventory.reserved',
        orderId: created.orderId,
        correlationId: created.correlationId,
        causationId: created.eventId,
        producer: 'inventory-service',
        payload: {
          orderId: created.orderId,
          customerId: created.payload.customerId,
          currency: 'EUR',
          amount: '64.99',
          lines: [
            { itemId: beans.itemId, quantity: 2, unitPrice: '12.50' },
            { itemId: frother.itemId, quantity: 1, unitPrice: '39.99' },
          ],
        },
      });
      expect(await metricValue(registry, 'inventory_reservations_total', { outcome: 'reserved' })).toBe(
        reservedBefore + 1,
      );
    });

    it('prices a line sent without unitPrice from the catalogue: inventory.reserved carries the catalogue price and amount', async () => {
      const beans = testItem({ unitPrice: '12.50', available: 10 });
      const frother = testItem({ unitPrice: '39.99', available: 3 });
      await addItems(db.pool, beans, frother);
      const created = orderCreated([
        { itemId: beans.itemId, quantity: 2, unitPrice: '12.50' },
        { itemId: frother.itemId, quantity: 2 },
      ]);
      // The provisional total covers the priced line only.
      expect(created.payload.totalAmount).toBe('25.00');

      await handle(created);

      expect(await stockOf(db.pool, frother.itemId)).toEqual({ available: 1, reserved: 2 });
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({ status: 'RESERVED' });
      const [reserved, ...rest] = await outboxEvents(db.pool, created.orderId);
      expect(rest).toEqual([]);
      expect(reserved).toMatchObject({
        eventType: 'inventory.reserved',
        causationId: created.eventId,
        payload: {
          orderId: created.orderId,
          amount: '104.98',
          currency: 'EUR',
          lines: [
            { itemId: beans.itemId, quantity: 2, unitPrice: '12.50' },
            { itemId: frother.itemId, quantity: 2, unitPrice: '39.99' },
          ],
        },
      });
    });

    it('reserves nothing when one line is short (all or none), and says which line', async () => {
      const plenty = testItem({ available: 50 });
      const scarce = testItem({ available: 2 });
      await addItems(db.pool, plenty, scarce);
      const created = orderCreated([
        { itemId: plenty.itemId, quantity: 5, unitPrice: '10.00' },
        { itemId: scarce.itemId, quantity: 3, unitPrice: '10.00' },
      ]);

      await handle(created);

      // Stock unchanged on every line, including the one that could have been served.
      expect(await stockOf(db.pool, plenty.itemId)).toEqual({ available: 50, reserved: 0 });
      expect(await stockOf(db.pool, scarce.itemId)).toEqual({ available: 2, reserved: 0 });
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({ status: 'REJECTED' });
      const lines = await db.pool.query('SELECT 1 FROM reservation_lines WHERE order_id = $1', [
        created.orderId,
      ]);
      expect(lines.rowCount).toBe(0);
      expect(await outboxEvents(db.pool, created.orderId)).toEqual([
        expect.objectContaining({
          eventType: 'inventory.rejected',
          causationId: created.eventId,
          payload: {
            orderId: created.orderId,
            customerId: created.payload.customerId,
            currency: 'EUR',
            amount: '80.00',
            reasons: [
              { itemId: scarce.itemId, reason: 'OUT_OF_STOCK', requestedQuantity: 3, availableQuantity: 2 },
            ],
          },
        }),
      ]);
    });

    it('rejects an unknown item, a client price that is not the catalogue price, and another currency', async () => {
      const priced = testItem({ unitPrice: '12.50', available: 10 });
      const pounds = testItem({ unitPrice: '4.20', currency: 'GBP', available: 10 });
      const fine = testItem({ available: 10 });
      await addItems(db.pool, priced, pounds, fine);
      const ghost = `sku-ghost-${priced.itemId}`;
      const created = orderCreated([
        { itemId: fine.itemId, quantity: 1, unitPrice: '10.00' },
        { itemId: ghost, quantity: 1, unitPrice: '1.00' },
        { itemId: priced.itemId, quantity: 1, unitPrice: '9.99' },
        { itemId: pounds.itemId, quantity: 1, unitPrice: '4.20' },
      ]);
      const mismatchesBefore = await metricValue(registry, 'inventory_rejected_lines_total', {
        reason: 'PRICE_MISMATCH',
      });

      await handle(created);

      for (const item of [priced, pounds, fine]) {
        expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      }
      const [rejected] = await outboxEvents(db.pool, created.orderId);
      expect(rejected?.eventType).toBe('inventory.rejected');
      expect(rejected?.payload).toMatchObject({
        reasons: [
          { itemId: ghost, reason: 'UNKNOWN_ITEM', requestedQuantity: 1 },
          {
            itemId: priced.itemId,
            reason: 'PRICE_MISMATCH',
            requestedQuantity: 1,
            catalogueUnitPrice: '12.50',
          },
          { itemId: pounds.itemId, reason: 'CURRENCY_MISMATCH', requestedQuantity: 1 },
        ],
      });
      expect(
        await metricValue(registry, 'inventory_rejected_lines_total', { reason: 'PRICE_MISMATCH' }),
      ).toBe(mismatchesBefore + 1);
    });

    it('treats a redelivered order.created as a no-op, and never decides one order twice', async () => {
      const item = testItem({ available: 10 });
      await addItems(db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity: 4, unitPrice: '10.00' }]);

      await handle(created);
      await handle(created); // redelivery: same eventId
      // The same order again under a new eventId (a producer retry that lost its id): still once.
      await handle(orderCreated(created.payload.items, { orderId: created.orderId }));

      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 6, reserved: 4 });
      expect((await outboxEvents(db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
      ]);
      expect(await inboxCount(created.eventId)).toBe(1);
    });
  });

  describe('compensations', () => {
    async function reservedOrder(quantity = 3) {
      const item = testItem({ unitPrice: '2.50', available: 10 });
      await addItems(db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity, unitPrice: '2.50' }]);
      await handle(created);
      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 10 - quantity, reserved: quantity });
      return { item, created };
    }

    it.each([
      ['payment.failed', paymentFailed, 'PAYMENT_FAILED'],
      ['order.cancelled', orderCancelled, 'ORDER_CANCELLED'],
      ['delivery.failed', deliveryFailed, 'DELIVERY_FAILED'],
      [
        'payment.refunded (ORDER_CANCELLED)',
        (e: AnyEvent) => paymentRefunded(e, 'ORDER_CANCELLED'),
        'ORDER_CANCELLED',
      ],
    ] as const)('%s gives the reserved stock back with its reason', async (_name, trigger, reason) => {
      const { item, created } = await reservedOrder(3);
      const releasesBefore = await metricValue(registry, 'inventory_releases_total', { reason });
      const compensation = trigger(created);

      await handle(compensation);

      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({
        status: 'RELEASED',
        release_reason: reason,
      });
      const released = (await outboxEvents(db.pool, created.orderId)).filter(
        (e) => e.eventType === 'inventory.released',
      );
      expect(released).toEqual([
        expect.objectContaining({
          causationId: compensation.eventId,
          payload: {
            orderId: created.orderId,
            customerId: created.payload.customerId,
            currency: 'EUR',
            amount: '7.50',
            reason,
            lines: [{ itemId: item.itemId, quantity: 3, unitPrice: '2.50' }],
          },
        }),
      ]);
      expect(await metricValue(registry, 'inventory_releases_total', { reason })).toBe(releasesBefore + 1);
    });

    it('releases once however many compensations and redeliveries arrive', async () => {
      const { item, created } = await reservedOrder(4);
      const failed = deliveryFailed(created);
      // A failed delivery brings delivery.failed and payment.refunded; both may be redelivered.
      await handle(failed);
      await handle(paymentRefunded(failed, 'DELIVERY_FAILED'));
      await handle(failed);
      await handle(orderCancelled(created));

      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect((await outboxEvents(db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
        'inventory.released',
      ]);
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({
        release_reason: 'DELIVERY_FAILED',
      });
    });

    it('a release that arrives before its reservation stops the reservation (tombstone)', async () => {
      const item = testItem({ available: 10 });
      await addItems(db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity: 2, unitPrice: '10.00' }]);
      const cancelled = orderCancelled(created);

      await handle(cancelled); // overtakes order.created (e.g. order.created was dead-lettered and replayed)
      expect(await reservationOf(db.pool, created.orderId)).toEqual({
        status: 'RELEASED',
        order_seen: false,
        release_reason: 'ORDER_CANCELLED',
      });
      // Nothing to announce yet: the order's customer and currency are not known.
      expect(await outboxEvents(db.pool, created.orderId)).toEqual([]);

      await handle(created);
      await handle(paymentRefunded(cancelled, 'ORDER_CANCELLED'));

      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({
        status: 'RELEASED',
        order_seen: true,
      });
      expect(await outboxEvents(db.pool, created.orderId)).toEqual([
        expect.objectContaining({
          eventType: 'inventory.released',
          causationId: created.eventId,
          payload: {
            orderId: created.orderId,
            customerId: created.payload.customerId,
            currency: 'EUR',
            amount: '0.00',
            reason: 'ORDER_CANCELLED',
            lines: [],
          },
        }),
      ]);
    });

    it('delivery.completed turns the reservation into a sale: reserved drops, available stays', async () => {
      const { item, created } = await reservedOrder(3);
      const completed = deliveryCompleted(created);
      const salesBefore = await metricValue(registry, 'inventory_sales_total');

      await handle(completed);
      await handle(completed); // redelivery
      await handle(orderCancelled(created)); // too late: nothing returns to the shelf

      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 7, reserved: 0 });
      expect(await reservationOf(db.pool, created.orderId)).toMatchObject({ status: 'SOLD' });
      expect((await outboxEvents(db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
      ]);
      expect(await metricValue(registry, 'inventory_sales_total')).toBe(salesBefore + 1);
    });

    it('delivery.completed for an order it has never seen fails (to be retried) and records nothing', async () => {
      const created = orderCreated([{ itemId: 'sku-never', quantity: 1, unitPrice: '1.00' }]);
      const completed = deliveryCompleted(created);

      await expect(handle(completed)).rejects.toThrow(ReservationNotFoundError);

      expect(await inboxCount(completed.eventId)).toBe(0); // so the retry is handled afresh
      expect(await reservationOf(db.pool, created.orderId)).toBeUndefined();
    });
  });

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
      await addItems(db.pool, x, y);
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
        stock: await Promise.all(items.map((item) => stockOf(db.pool, item.itemId))),
        reservations: await Promise.all(orders.map((order) => reservationOf(db.pool, order.orderId))),
        events: await Promise.all(
          orders.map(async (order) =>
            (await outboxEvents(db.pool, order.orderId)).map((e) => ({
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

      await batchPipeline(db.pool, metrics)(batched.events);
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
      expect((await outboxEvents(db.pool, o2.orderId))[1]).toMatchObject({
        causationId: batched.cancelled.eventId,
      });
      // Metrics count each run's effects once, after its commit.
      expect(await metricValue(registry, 'inventory_releases_total', { reason: 'ORDER_CANCELLED' })).toBe(
        releasesBefore + 2,
      );
    });

    it('a step that throws rolls the whole batch back; one at a time, the others then go through', async () => {
      const item = testItem({ available: 10 });
      await addItems(db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity: 4, unitPrice: '10.00' }]);
      const stray = deliveryCompleted(
        orderCreated([{ itemId: item.itemId, quantity: 1, unitPrice: '10.00' }]),
      );

      await expect(batchPipeline(db.pool, metrics)([created, stray])).rejects.toThrow(
        ReservationNotFoundError,
      );

      // Nothing of the batch took effect, inbox records included.
      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationOf(db.pool, created.orderId)).toBeUndefined();
      expect(await outboxEvents(db.pool, created.orderId)).toEqual([]);
      expect(await inboxCount(created.eventId)).toBe(0);

      // What the consumer does next: each event as a batch of one.
      await handle(created);
      await expect(handle(stray)).rejects.toThrow(ReservationNotFoundError);
      expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 6, reserved: 4 });
      expect((await outboxEvents(db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
      ]);
    });
  });

  it('ignores event types inventory does not react to, without recording them', async () => {
    const created = orderCreated([{ itemId: 'sku-x', quantity: 1, unitPrice: '1.00' }]);
    const authorized: EventEnvelope<'payment.authorized'> = followUp(created, 'payment.authorized', {
      paymentId: 'p-1',
      orderId: created.orderId,
      amount: '1.00',
      currency: 'EUR',
      status: 'AUTHORIZED',
    });

    await handle(authorized);

    expect(await inboxCount(authorized.eventId)).toBe(0);
    expect(await outboxEvents(db.pool, created.orderId)).toEqual([]);
  });

  it('the database itself refuses negative stock (CHECK constraints)', async () => {
    const item = testItem({ available: 1 });
    await addItems(db.pool, item);
    await expect(
      db.pool.query('UPDATE items SET available = available - 2 WHERE item_id = $1', [item.itemId]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'items_available_not_negative' });
    await expect(
      db.pool.query('UPDATE items SET reserved = reserved - 1 WHERE item_id = $1', [item.itemId]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'items_reserved_not_negative' });
    expect(await stockOf(db.pool, item.itemId)).toEqual({ available: 1, reserved: 0 });
  });
});
