import { randomUUID } from 'node:crypto';
import { eventually, requireRunningServices, serviceUrl, tokenFor } from '@dispatch/testkit';
import { createItem, expectStatus, http, orderBody, postOrder, uniqueId } from './support/api';

interface OrderList {
  items: { orderId: string }[];
}

/** The customer's orders as query-api lists them. */
async function ordersOf(customerId: string): Promise<string[]> {
  const answer = await http<OrderList>(
    'GET',
    `${serviceUrl('query-api')}/api/orders?customerId=${customerId}`,
    {
      token: await tokenFor(customerId),
    },
  );
  expectStatus(answer, 200, `GET /api/orders?customerId=${customerId}`);
  return answer.body.items.map((order) => order.orderId);
}

/** Idempotency-Key on POST /api/orders, Stripe semantics (docs/design.md §6). */
describe('Idempotency-Key', () => {
  let itemId: string;

  beforeAll(async () => {
    await requireRunningServices(['order-service', 'inventory-service', 'query-api']);
    itemId = (await createItem({ available: 100, unitPrice: '2.00' })).itemId;
  });

  const lines = () => [{ itemId, quantity: 1, unitPrice: '2.00' }];

  it('replays the stored answer for a sequential repeat: same status, orderId and body', async () => {
    const customerId = uniqueId('e2e-idem');
    const key = randomUUID();
    const body = orderBody(customerId, lines());

    const first = await postOrder(customerId, body, { idempotencyKey: key });
    expectStatus(first, 201, 'first POST');
    const second = await postOrder(customerId, body, { idempotencyKey: key });

    expect(second.status).toBe(201);
    expect(second.body.orderId).toBe(first.body.orderId);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    // One order reached the read side, not two.
    await eventually(async () => expect(await ordersOf(customerId)).toEqual([first.body.orderId]), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
  });

  it('creates one order for concurrent repeats (the others get 409 in flight, or the replay)', async () => {
    const customerId = uniqueId('e2e-idem');
    const key = randomUUID();
    const body = orderBody(customerId, lines());
    const token = await tokenFor(customerId);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postOrder(customerId, body, { idempotencyKey: key, token })),
    );

    for (const answer of answers) expect([201, 409]).toContain(answer.status);
    const orderIds = new Set(answers.filter((a) => a.status === 201).map((a) => a.body.orderId));
    expect(orderIds.size).toBe(1);
    const [orderId] = [...orderIds];
    // Once the first request finished, a retry gets its answer.
    const retry = await postOrder(customerId, body, { idempotencyKey: key, token });
    expectStatus(retry, 201, 'retry after the concurrent burst');
    expect(retry.body.orderId).toBe(orderId);
    await eventually(async () => expect(await ordersOf(customerId)).toEqual([orderId]), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
  });

  it('answers 422 when the same key comes with a different body, and creates nothing', async () => {
    const customerId = uniqueId('e2e-idem');
    const key = randomUUID();

    const first = await postOrder(customerId, orderBody(customerId, lines()), { idempotencyKey: key });
    expectStatus(first, 201, 'first POST');
    const other = await postOrder(
      customerId,
      orderBody(customerId, [{ itemId, quantity: 2, unitPrice: '2.00' }]),
      {
        idempotencyKey: key,
      },
    );

    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/application\/problem\+json/);
    await eventually(async () => expect(await ordersOf(customerId)).toEqual([first.body.orderId]), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
  });
});
