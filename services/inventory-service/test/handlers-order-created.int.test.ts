import { metricValue } from '@dispatch/testkit';
import {
  addItems,
  orderCreated,
  outboxEvents,
  reservationOf,
  stockOf,
  testItem,
  useHandlerDatabase,
} from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

/** The handlers against a real, fresh PostgreSQL database, called as the consumer calls them: order.created. */
describe('inventory handlers (real PostgreSQL)', () => {
  const t = useHandlerDatabase();
  const { handle, inboxCount, registry } = t;

  describe('order.created', () => {
    it('reserves every line at catalogue prices and emits inventory.reserved with the amount', async () => {
      const beans = testItem({ unitPrice: '12.50', available: 10 });
      const frother = testItem({ unitPrice: '39.99', available: 1 });
      await addItems(t.db.pool, beans, frother);
      const created = orderCreated([
        { itemId: beans.itemId, quantity: 2, unitPrice: '12.50' },
        { itemId: frother.itemId, quantity: 1, unitPrice: '39.99' },
      ]);
      const reservedBefore = await metricValue(registry, 'inventory_reservations_total', {
        outcome: 'reserved',
      });

      await handle(created);

      expect(await stockOf(t.db.pool, beans.itemId)).toEqual({ available: 8, reserved: 2 });
      expect(await stockOf(t.db.pool, frother.itemId)).toEqual({ available: 0, reserved: 1 });
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({ status: 'RESERVED' });
      const [reserved, ...rest] = await outboxEvents(t.db.pool, created.orderId);
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
      await addItems(t.db.pool, beans, frother);
      const created = orderCreated([
        { itemId: beans.itemId, quantity: 2, unitPrice: '12.50' },
        { itemId: frother.itemId, quantity: 2 },
      ]);
      // The provisional total covers the priced line only.
      expect(created.payload.totalAmount).toBe('25.00');

      await handle(created);

      expect(await stockOf(t.db.pool, frother.itemId)).toEqual({ available: 1, reserved: 2 });
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({ status: 'RESERVED' });
      const [reserved, ...rest] = await outboxEvents(t.db.pool, created.orderId);
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
      await addItems(t.db.pool, plenty, scarce);
      const created = orderCreated([
        { itemId: plenty.itemId, quantity: 5, unitPrice: '10.00' },
        { itemId: scarce.itemId, quantity: 3, unitPrice: '10.00' },
      ]);

      await handle(created);

      // Stock unchanged on every line, including the one that could have been served.
      expect(await stockOf(t.db.pool, plenty.itemId)).toEqual({ available: 50, reserved: 0 });
      expect(await stockOf(t.db.pool, scarce.itemId)).toEqual({ available: 2, reserved: 0 });
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({ status: 'REJECTED' });
      const lines = await t.db.pool.query('SELECT 1 FROM reservation_lines WHERE order_id = $1', [
        created.orderId,
      ]);
      expect(lines.rowCount).toBe(0);
      expect(await outboxEvents(t.db.pool, created.orderId)).toEqual([
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
      await addItems(t.db.pool, priced, pounds, fine);
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
        expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      }
      const [rejected] = await outboxEvents(t.db.pool, created.orderId);
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
      await addItems(t.db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity: 4, unitPrice: '10.00' }]);

      await handle(created);
      await handle(created); // redelivery: same eventId
      // The same order again under a new eventId (a producer retry that lost its id): still once.
      await handle(orderCreated(created.payload.items, { orderId: created.orderId }));

      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 6, reserved: 4 });
      expect((await outboxEvents(t.db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
      ]);
      expect(await inboxCount(created.eventId)).toBe(1);
    });
  });
});
