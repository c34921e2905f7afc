import {
  type ExtraInstance,
  freePort,
  requireRunningServices,
  serviceUrl,
  startExtraInstance,
  tokenFor,
} from '../../packages/testkit/src';
import {
  createItem,
  expectStatus,
  getItem,
  http,
  mapConcurrently,
  type OrderView,
  orderBody,
  postOrder,
  uniqueId,
  waitForInventoryDecision,
} from './support/api';

const ORDERS = 200;
const STOCK = 10;

/** Σ inventory_reservations_total over its outcomes, from one instance's /metrics. */
async function reservationsDecided(baseUrl: string): Promise<number> {
  const answer = await http<string>('GET', `${baseUrl}/metrics`);
  expectStatus(answer, 200, `GET ${baseUrl}/metrics`);
  let total = 0;
  for (const match of answer.text.matchAll(/^inventory_reservations_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm)) {
    total += Number(match[1]);
  }
  return total;
}

/**
 * Oversell protection under contention: 200 customers order the last 10 units at once while two
 * inventory-service instances share the order topic's partitions (one consumer group).
 */
describe('200 concurrent orders for 10 units, two inventory-service instances', () => {
  let second: ExtraInstance | undefined;

  beforeAll(async () => {
    await requireRunningServices(['order-service', 'inventory-service', 'query-api']);
    second = await startExtraInstance('inventory-service', await freePort());
  });

  afterAll(async () => {
    await second?.stop();
  });

  it('reserves exactly 10, rejects 190 with OUT_OF_STOCK, and available goes 10 → 0, never below', async () => {
    const item = await createItem({ available: STOCK, unitPrice: '3.00' });
    const firstUrl = serviceUrl('inventory-service');
    const decidedBefore = [await reservationsDecided(firstUrl), await reservationsDecided(second!.url)];

    // Watch the stock while the orders land.
    const samples: number[] = [];
    const watchErrors: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          samples.push((await getItem(item.itemId)).available);
        } catch (err) {
          watchErrors.push(err instanceof Error ? err.message : String(err));
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    let views: OrderView[];
    try {
      const customers = Array.from({ length: ORDERS }, () => uniqueId('e2e-rush'));
      const tokens = await Promise.all(customers.map((customerId) => tokenFor(customerId)));
      const answers = await Promise.all(
        customers.map((customerId, i) =>
          postOrder(
            customerId,
            orderBody(customerId, [{ itemId: item.itemId, quantity: 1, unitPrice: '3.00' }]),
            { token: tokens[i]! },
          ),
        ),
      );
      for (const answer of answers) expectStatus(answer, 201, 'POST /api/orders');
      const orderIds = answers.map((answer) => answer.body.orderId);
      expect(new Set(orderIds).size).toBe(ORDERS);
      views = await mapConcurrently(orderIds, 20, (orderId) => waitForInventoryDecision(orderId, 120_000));
    } finally {
      watching = false;
      await watcher;
    }
    expect(watchErrors).toEqual([]);

    const reserved = views.filter((view) => view.inventory?.status === 'RESERVED');
    const rejected = views.filter((view) => view.inventory?.status === 'REJECTED');
    expect(reserved).toHaveLength(STOCK);
    expect(rejected).toHaveLength(ORDERS - STOCK);
    for (const view of rejected) {
      expect(view.status).toBe('INVENTORY_REJECTED');
      expect(view.inventory?.reasons.map((r) => r.reason)).toEqual(['OUT_OF_STOCK']);
    }

    // Every unit went to exactly one order. (A reservation is given back only by a later
    // payment or delivery failure; none happens within this test's time: tok_visa pays and
    // a paid order waits minutes for a driver before delivery gives up.)
    const final = await getItem(item.itemId);
    const released = reserved.filter((view) => view.compensation.inventoryReleased).length;
    expect(final.available).toBe(released);
    expect(final.available + final.reserved).toBeLessThanOrEqual(STOCK);
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);

    // Both instances decided some of the orders: the consumer group split the partitions.
    const decidedAfter = [await reservationsDecided(firstUrl), await reservationsDecided(second!.url)];
    const byInstance = decidedAfter.map((after, i) => after - decidedBefore[i]!);
    expect(byInstance[0]).toBeGreaterThan(0);
    expect(byInstance[1]).toBeGreaterThan(0);
    expect(byInstance[0]! + byInstance[1]!).toBeGreaterThanOrEqual(ORDERS);
  });
});
