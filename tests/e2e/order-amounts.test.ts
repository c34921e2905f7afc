import { eventually, requireRunningServices, serviceUrl, tokenFor } from '@dispatch/testkit';
import {
  createItem,
  expectStatus,
  http,
  type OrderView,
  orderBody,
  postOrder,
  readOrder,
  uniqueId,
} from './support/api';

/**
 * Money through the public APIs: the seed's request shape (amounts as JSON numbers) is accepted and
 * converted exactly, and query-api's totalAmount is the catalogue total once inventory priced the
 * order, in the single view and in the customer's list, not order.created's provisional total.
 */
describe('order amounts through the public API', () => {
  beforeAll(() => requireRunningServices(['order-service', 'inventory-service', 'query-api']));

  it('accepts unitPrice as a JSON number and shows the priced total of lines sent without a price', async () => {
    const priced = await createItem({ available: 5, unitPrice: '12.50' });
    const unpriced = await createItem({ available: 5, unitPrice: '7.25' });
    const customerId = uniqueId('e2e-amounts');
    // The raw JSON text matters here (25.00 with its zeros, as the seed's clients write it), so the
    // body is sent as text rather than through JSON.stringify of a JS object.
    const body = orderBody(customerId, []);
    const json = JSON.stringify({ ...body, items: '@ITEMS@' }).replace(
      '"@ITEMS@"',
      `[{"itemId":"${priced.itemId}","quantity":2,"unitPrice":12.50},{"itemId":"${unpriced.itemId}","quantity":3}]`,
    );
    // testkit's http() JSON.stringifies its body (12.5, not 12.50); send the raw text with fetch.
    const response = await fetch(`${serviceUrl('order-service')}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor(customerId)}`, 'content-type': 'application/json' },
      body: json,
    });
    const created = (await response.json()) as { orderId: string; totalAmount: string };
    expect(response.status).toBe(201);
    // Provisional: only the line sent with a price (2 × 12.50).
    expect(created.totalAmount).toBe('25.00');

    const view = await eventually(
      async () => {
        const current = await readOrder(created.orderId);
        if (!current?.inventory) throw new Error(`order ${created.orderId} not priced by inventory yet`);
        return current;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(view.inventory?.status).toBe('RESERVED');
    // 2 × 12.50 + 3 × 7.25, the catalogue's total, which payment charges.
    expect(view.totalAmount).toBe('46.75');
    expect(view.items).toEqual([
      { itemId: priced.itemId, quantity: 2, unitPrice: '12.50' },
      { itemId: unpriced.itemId, quantity: 3 },
    ]);

    const list = await http<{ items: OrderView[] }>(
      'GET',
      `${serviceUrl('query-api')}/api/orders?customerId=${customerId}`,
      { token: await tokenFor(customerId) },
    );
    expectStatus(list, 200, 'GET /api/orders');
    expect(list.body.items).toEqual([
      expect.objectContaining({ orderId: created.orderId, totalAmount: '46.75' }),
    ]);
  });

  it('refuses a JSON number with more than two decimals with 400 naming the field', async () => {
    const customerId = uniqueId('e2e-amounts');
    const answer = await postOrder(
      customerId,
      orderBody(customerId, [{ itemId: 'sku-espresso-beans-1kg', quantity: 1, unitPrice: 12.345 as never }]),
    );
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(answer.body).toMatchObject({ errors: [expect.objectContaining({ path: 'items.0.unitPrice' })] });
  });
});
