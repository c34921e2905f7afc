import { requireRunningServices } from '@dispatch/testkit';
import {
  createItem,
  getItem,
  placeOrder,
  RESERVED_OR_BEYOND,
  uniqueId,
  waitForInventoryDecision,
} from './support/api';

/**
 * The happy and the out-of-stock path through order-service → inventory-service → query-api,
 * on the running stack (`pnpm stack up`), each with a fresh catalogue item.
 */
describe('an order through the saga', () => {
  beforeAll(() => requireRunningServices(['order-service', 'inventory-service', 'query-api']));

  it('goes CREATED → INVENTORY_RESERVED in query-api, priced from the catalogue', async () => {
    const item = await createItem({ available: 5, unitPrice: '12.50' });
    const customerId = uniqueId('e2e-customer');

    const created = await placeOrder(customerId, [{ itemId: item.itemId, quantity: 2, unitPrice: '12.50' }]);
    expect(created).toMatchObject({ customerId, totalAmount: '25.00', currency: 'EUR', status: 'CREATED' });

    const view = await waitForInventoryDecision(created.orderId);
    // Payment and delivery may already have moved it on; it must at least be reserved.
    expect(RESERVED_OR_BEYOND).toContain(view.status);
    expect(view).toMatchObject({
      orderId: created.orderId,
      customerId,
      totalAmount: '25.00',
      currency: 'EUR',
      createdAt: created.createdAt,
    });
    expect(view.inventory).toMatchObject({
      status: 'RESERVED',
      amount: '25.00',
      currency: 'EUR',
      lines: [{ itemId: item.itemId, quantity: 2, unitPrice: '12.50' }],
      reasons: [],
    });
    // The timeline shows the two steps in order, the reservation caused by the creation.
    const [first, second] = view.timeline;
    expect(first).toMatchObject({ eventType: 'order.created', producer: 'order-service' });
    expect(second).toMatchObject({
      eventType: 'inventory.reserved',
      producer: 'inventory-service',
      causationId: first!.eventId,
    });

    const after = await getItem(item.itemId);
    // Reserved, or already sold/released further down the saga: never more than ordered taken.
    expect(after.available).toBe(3);
    expect(after.reserved).toBeLessThanOrEqual(2);
  });

  it('is INVENTORY_REJECTED with OUT_OF_STOCK when it asks for more than is available, and stock is unchanged', async () => {
    const item = await createItem({ available: 3, unitPrice: '4.20' });
    const before = await getItem(item.itemId);
    const customerId = uniqueId('e2e-customer');

    const created = await placeOrder(customerId, [{ itemId: item.itemId, quantity: 4, unitPrice: '4.20' }]);
    const view = await waitForInventoryDecision(created.orderId);

    expect(view.status).toBe('INVENTORY_REJECTED');
    expect(view.inventory?.status).toBe('REJECTED');
    expect(view.inventory?.reasons).toEqual([
      expect.objectContaining({
        itemId: item.itemId,
        reason: 'OUT_OF_STOCK',
        requestedQuantity: 4,
        availableQuantity: 3,
      }),
    ]);
    expect(view.timeline.map((entry) => entry.eventType)).toEqual(['order.created', 'inventory.rejected']);
    expect(await getItem(item.itemId)).toEqual(before);
  });

  it('is rejected with PRICE_MISMATCH when the client sends another price than the catalogue', async () => {
    const item = await createItem({ available: 3, unitPrice: '9.99' });
    const customerId = uniqueId('e2e-customer');

    const created = await placeOrder(customerId, [{ itemId: item.itemId, quantity: 1, unitPrice: '0.99' }]);
    const view = await waitForInventoryDecision(created.orderId);

    expect(view.status).toBe('INVENTORY_REJECTED');
    expect(view.inventory?.reasons).toEqual([
      expect.objectContaining({ itemId: item.itemId, reason: 'PRICE_MISMATCH', catalogueUnitPrice: '9.99' }),
    ]);
    expect((await getItem(item.itemId)).available).toBe(3);
  });
});
