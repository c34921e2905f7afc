import { eventually, requireRunningServices, serviceUrl } from '@dispatch/testkit';
import { createItem, getItem, uniqueId } from './support/api';
import {
  getPayment,
  metricSum,
  placeOrderPaidWith,
  scrape,
  settleOrders,
  timelineCount,
  waitForStock,
  waitForView,
} from './support/saga';

/** payment_circuit_breaker_state: 0 closed, 1 half-open, 2 open (docs/payment.md). */
const BREAKER = { closed: 0, open: 2 } as const;
/** Orders whose gateway never answers: at 1 + GATEWAY_RETRIES (2) attempts each, two exceed the breaker's 5. */
const TIMEOUT_ORDERS = 3;

/** Gateway charge attempts abandoned by the per-attempt timeout, so far. */
async function timedOutAttempts(): Promise<number> {
  return metricSum(
    await scrape(serviceUrl('payment-service')),
    'payment_gateway_request_duration_seconds_count',
    {
      operation: 'charge',
      outcome: 'timeout',
    },
  );
}

async function breakerState(): Promise<number> {
  return metricSum(await scrape(serviceUrl('payment-service')), 'payment_circuit_breaker_state');
}

/**
 * An unreachable gateway on the live payment-service: every attempt of tok_gateway_timeout times out
 * (GATEWAY_TIMEOUT_MS, retried GATEWAY_RETRIES times), the payment fails with gateway_unavailable and
 * the stock comes back; consecutive failures open the circuit breaker, which closes again on the first
 * successful charge after BREAKER_HALF_OPEN_AFTER_MS.
 */
describe('payment gateway timeouts and the circuit breaker', () => {
  const placed: { orderId: string; customerId: string }[] = [];

  beforeAll(async () => {
    await requireRunningServices(['order-service', 'inventory-service', 'payment-service', 'query-api']);
    expect(await breakerState()).toBe(BREAKER.closed);
  });

  afterAll(async () => {
    // Whatever happened above, later tests need a closed breaker: charge until one succeeds.
    const state = await breakerState().catch(() => BREAKER.closed);
    if (state !== BREAKER.closed) await closeBreaker(placed).catch(() => undefined);
    await settleOrders(placed);
  });

  it('tok_gateway_timeout: PAYMENT_FAILED with gateway_unavailable, stock released, and the breaker opens', async () => {
    const item = await createItem({ available: 10, unitPrice: '2.00' });
    const before = await getItem(item.itemId);
    const timedOutBefore = await timedOutAttempts();
    // Sample the gauge throughout: the breaker may already be half-open again (or closed by someone
    // else's charge) by the time the read model shows the last failure.
    const statesSeen = new Set<number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        statesSeen.add(await breakerState().catch(() => -1));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    const orders = await Promise.all(
      Array.from({ length: TIMEOUT_ORDERS }, async () => {
        const customerId = uniqueId('e2e-timeout');
        const created = await placeOrderPaidWith(
          customerId,
          [{ itemId: item.itemId, quantity: 1, unitPrice: '2.00' }],
          'tok_gateway_timeout',
        );
        placed.push({ orderId: created.orderId, customerId });
        return created;
      }),
    );

    // Each one takes up to 3 × GATEWAY_TIMEOUT_MS (2 s) + backoff; on one partition they queue.
    try {
      for (const order of orders) {
        const view = await waitForView(
          order.orderId,
          (v) => {
            if (v.status !== 'PAYMENT_FAILED' || !v.compensation.inventoryReleased) {
              throw new Error(`order is ${v.status}, released=${v.compensation.inventoryReleased}`);
            }
          },
          90_000,
        );
        expect(view.payment).toMatchObject({ status: 'FAILED', failureReason: 'gateway_unavailable' });
        expect(timelineCount(view, 'payment.authorized')).toBe(0);
        expect(timelineCount(view, 'inventory.released')).toBe(1);
        expect(await getPayment(order.orderId)).toMatchObject({
          status: 'FAILED',
          failureReason: 'gateway_unavailable',
        });
      }
    } finally {
      sampling = false;
      await sampler;
    }
    expect(await waitForStock(item.itemId, (stock) => stock.reserved === 0)).toEqual(before);

    // Nine failed attempts in a row (or fewer, cut short by the open breaker): the breaker opened.
    expect([...statesSeen]).toContain(BREAKER.open);
    // At least BREAKER_CONSECUTIVE_FAILURES (5) attempts timed out before it opened.
    expect((await timedOutAttempts()) - timedOutBefore).toBeGreaterThanOrEqual(5);
  });

  it('closes again: after the break a tok_visa charge goes through and the gauge is back to 0', async () => {
    const authorized = await closeBreaker(placed);
    expect(authorized.payment).toMatchObject({ status: 'AUTHORIZED' });
    expect(await breakerState()).toBe(BREAKER.closed);
  });
});

/**
 * Places tok_visa orders, one at a time, until one is authorized: while the breaker is open a charge
 * fails fast with gateway_unavailable (its stock is released); after BREAKER_HALF_OPEN_AFTER_MS
 * (10 s) the next charge is the half-open trial and closes the breaker.
 */
async function closeBreaker(placed: { orderId: string; customerId: string }[]) {
  const item = await createItem({ available: 20, unitPrice: '1.00' });
  return eventually(
    async () => {
      const customerId = uniqueId('e2e-breaker-probe');
      const created = await placeOrderPaidWith(
        customerId,
        [{ itemId: item.itemId, quantity: 1, unitPrice: '1.00' }],
        'tok_visa',
      );
      placed.push({ orderId: created.orderId, customerId });
      const view = await waitForView(created.orderId, (v) => {
        if (!v.payment) throw new Error(`probe order is ${v.status}, payment not decided yet`);
      });
      if (view.payment?.status !== 'AUTHORIZED') {
        throw new Error(`probe charge failed with ${view.payment?.failureReason}: breaker still open`);
      }
      return view;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}
