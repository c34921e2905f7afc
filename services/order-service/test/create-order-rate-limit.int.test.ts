import {
  customerId,
  customerToken,
  orderBody,
  PROBLEM,
  request,
  startTestOrderService,
  type TestOrderService,
} from './helpers';

describe('rate limit', () => {
  let limited: TestOrderService;

  beforeAll(async () => {
    limited = await startTestOrderService({ ORDERS_RATE_LIMIT: '3', ORDERS_RATE_LIMIT_WINDOW_MS: '60000' });
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it('refuses a caller over the limit with 429 and Retry-After, and counts each caller apart', async () => {
    const greedy = customerId();
    const token = await customerToken(greedy);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await request(limited.base, '/api/orders', { body: orderBody(greedy), token })).status);
    }
    const refused = await request(limited.base, '/api/orders', { body: orderBody(greedy), token });
    expect(statuses).toEqual([201, 201, 201]);
    expect(refused.status).toBe(429);
    expect(refused.json.type).toBe(`${PROBLEM}rate-limited`);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = customerId();
    const fine = await request(limited.base, '/api/orders', {
      body: orderBody(other),
      token: await customerToken(other),
    });
    expect(fine.status).toBe(201);
  });
});
