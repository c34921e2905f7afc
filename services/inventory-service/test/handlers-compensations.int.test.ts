import type { AnyEvent } from '@dispatch/contracts';
import { metricValue } from '@dispatch/testkit';
import { ReservationNotFoundError } from '../src/handlers/delivery-completed';
import {
  addItems,
  deliveryCompleted,
  deliveryFailed,
  orderCancelled,
  orderCreated,
  outboxEvents,
  paymentFailed,
  paymentRefunded,
  reservationOf,
  stockOf,
  testItem,
  useHandlerDatabase,
} from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

/** The handlers against a real, fresh PostgreSQL database, called as the consumer calls them: the compensations and delivery.completed. */
describe('inventory handlers (real PostgreSQL)', () => {
  const t = useHandlerDatabase();
  const { handle, inboxCount, registry } = t;

  describe('compensations', () => {
    async function reservedOrder(quantity = 3) {
      const item = testItem({ unitPrice: '2.50', available: 10 });
      await addItems(t.db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity, unitPrice: '2.50' }]);
      await handle(created);
      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 10 - quantity, reserved: quantity });
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

      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({
        status: 'RELEASED',
        release_reason: reason,
      });
      const released = (await outboxEvents(t.db.pool, created.orderId)).filter(
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

      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect((await outboxEvents(t.db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
        'inventory.released',
      ]);
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({
        release_reason: 'DELIVERY_FAILED',
      });
    });

    it('a release that arrives before its reservation stops the reservation (tombstone)', async () => {
      const item = testItem({ available: 10 });
      await addItems(t.db.pool, item);
      const created = orderCreated([{ itemId: item.itemId, quantity: 2, unitPrice: '10.00' }]);
      const cancelled = orderCancelled(created);

      await handle(cancelled); // overtakes order.created (e.g. order.created was dead-lettered and replayed)
      expect(await reservationOf(t.db.pool, created.orderId)).toEqual({
        status: 'RELEASED',
        order_seen: false,
        release_reason: 'ORDER_CANCELLED',
      });
      // Nothing to announce yet: the order's customer and currency are not known.
      expect(await outboxEvents(t.db.pool, created.orderId)).toEqual([]);

      await handle(created);
      await handle(paymentRefunded(cancelled, 'ORDER_CANCELLED'));

      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({
        status: 'RELEASED',
        order_seen: true,
      });
      expect(await outboxEvents(t.db.pool, created.orderId)).toEqual([
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

      expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 7, reserved: 0 });
      expect(await reservationOf(t.db.pool, created.orderId)).toMatchObject({ status: 'SOLD' });
      expect((await outboxEvents(t.db.pool, created.orderId)).map((e) => e.eventType)).toEqual([
        'inventory.reserved',
      ]);
      expect(await metricValue(registry, 'inventory_sales_total')).toBe(salesBefore + 1);
    });

    it('delivery.completed for an order it has never seen fails (to be retried) and records nothing', async () => {
      const created = orderCreated([{ itemId: 'sku-never', quantity: 1, unitPrice: '1.00' }]);
      const completed = deliveryCompleted(created);

      await expect(handle(completed)).rejects.toThrow(ReservationNotFoundError);

      expect(await inboxCount(completed.eventId)).toBe(0); // so the retry is handled afresh
      expect(await reservationOf(t.db.pool, created.orderId)).toBeUndefined();
    });
  });
});
