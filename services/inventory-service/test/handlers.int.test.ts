import type { EventEnvelope } from '@dispatch/contracts';
import { followUp } from '@dispatch/contracts';
import { addItems, orderCreated, outboxEvents, stockOf, testItem, useHandlerDatabase } from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

/** The handlers against a real, fresh PostgreSQL database, called as the consumer calls them. */
describe('inventory handlers (real PostgreSQL)', () => {
  const t = useHandlerDatabase();
  const { handle, inboxCount } = t;

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
    expect(await outboxEvents(t.db.pool, created.orderId)).toEqual([]);
  });

  it('the database itself refuses negative stock (CHECK constraints)', async () => {
    const item = testItem({ available: 1 });
    await addItems(t.db.pool, item);
    await expect(
      t.db.pool.query('UPDATE items SET available = available - 2 WHERE item_id = $1', [item.itemId]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'items_available_not_negative' });
    await expect(
      t.db.pool.query('UPDATE items SET reserved = reserved - 1 WHERE item_id = $1', [item.itemId]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'items_reserved_not_negative' });
    expect(await stockOf(t.db.pool, item.itemId)).toEqual({ available: 1, reserved: 0 });
  });
});
