import { randomUUID } from 'node:crypto';
import {
  type ExtraInstance,
  freePort,
  requireRunningServices,
  serviceUrl,
  startExtraInstance,
  tokenFor,
} from '@dispatch/testkit';
import {
  type CatalogueItem,
  type CreatedOrder,
  createItem,
  expectStatus,
  getItem,
  type HttpAnswer,
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
/** A client gives up after this many 503s in a row (at 1–2 s apart, about a minute). */
const MAX_ATTEMPTS = 40;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts a 503 is the platform's overload answer and returns its Retry-After in seconds. */
function retryAfterOf(answer: HttpAnswer): number {
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect((answer.body as { type?: string }).type).toBe('https://dispatch.dev/problems/overloaded');
  const seconds = Number(answer.headers.get('retry-after'));
  expect(Number.isInteger(seconds) && seconds >= 1).toBe(true);
  return seconds;
}

/**
 * POST /api/orders as a real client sends it: with an Idempotency-Key, and on 503 `overloaded` it
 * waits Retry-After (plus up to as much again, so a crowd of clients does not come back in one burst)
 * and sends the same request with the same key again. Any other answer ends the attempts and is
 * returned.
 */
async function placeLikeAClient(
  customerId: string,
  body: unknown,
  token: string,
): Promise<HttpAnswer<CreatedOrder>> {
  const idempotencyKey = randomUUID();
  for (let attempt = 1; ; attempt += 1) {
    const answer = await postOrder(customerId, body, { idempotencyKey, token });
    if (answer.status !== 503 || attempt === MAX_ATTEMPTS) return answer;
    const seconds = retryAfterOf(answer);
    await sleep(seconds * 1_000 * (1 + Math.random()));
  }
}

/** The item's stock, or undefined when inventory-service answered 503 overloaded (the sample is skipped). */
async function sampleItem(itemId: string, token: string): Promise<CatalogueItem | undefined> {
  const answer = await http<CatalogueItem>(
    'GET',
    `${serviceUrl('inventory-service')}/api/inventory/items/${itemId}`,
    { token },
  );
  if (answer.status === 503) {
    retryAfterOf(answer);
    return undefined;
  }
  expectStatus(answer, 200, `GET item ${itemId}`);
  return answer.body;
}

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
 * inventory-service instances share the order topic's partitions (one consumer group). order-service
 * admits only so many requests at once and refuses the rest with 503 `overloaded`; each customer then
 * retries with the same Idempotency-Key, as a real client does, until the order is placed.
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
    const adminToken = await tokenFor('e2e-admin', 'admin');
    const samples: number[] = [];
    const watchErrors: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          const sample = await sampleItem(item.itemId, adminToken);
          if (sample) samples.push(sample.available);
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
          placeLikeAClient(
            customerId,
            orderBody(customerId, [{ itemId: item.itemId, quantity: 1, unitPrice: '3.00' }]),
            tokens[i]!,
          ),
        ),
      );
      // Every customer got its order in the end; nothing but 503 overloaded came before (no 500).
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

    // Every unit went to exactly one of our orders; an extra order from a retried POST would have
    // taken one too and broken these counts. (A reservation is given back only by a later
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
