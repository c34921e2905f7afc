import { metricValue, outboxOf } from '@dispatch/testkit';
import { dedupKey } from '../src/redis/dedup-cache';
import { lockKey } from '../src/redis/order-lock';
import { orderScenario, paymentRows, storedCardToken, usePaymentPipeline } from './helpers';

/** Several orders' events in one fetched batch: each order ends as it would one event at a time. */
describe('payment batches (real PostgreSQL and Redis)', () => {
  const env = usePaymentPipeline();

  it('one batch: approved, declined, waiting, cancelled and duplicated orders each end as one at a time', async () => {
    const approved = orderScenario('tok_visa');
    const declined = orderScenario('tok_declined');
    const waiting = orderScenario('tok_visa');
    const cancelled = orderScenario('tok_visa');
    const asked = orderScenario('tok_visa');
    const askedAgain = asked.reservedAgain();

    await env.pipeline.handleBatch([
      approved.created,
      declined.created,
      waiting.reserved, // order.created comes in a later batch
      cancelled.created,
      cancelled.cancelled(),
      cancelled.reserved,
      asked.created,
      approved.reserved,
      asked.reserved,
      askedAgain, // a second request for the same order, in the same batch
      declined.reserved,
      approved.reserved, // the same event twice in one batch
    ]);

    expect(await paymentRows(env.db.pool, approved.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: null },
    ]);
    expect(await paymentRows(env.db.pool, declined.orderId)).toEqual([
      { status: 'FAILED', failure_reason: 'card_declined', refund_status: null },
    ]);
    expect(await paymentRows(env.db.pool, waiting.orderId)).toEqual([]);
    expect(await paymentRows(env.db.pool, cancelled.orderId)).toEqual([
      { status: 'FAILED', failure_reason: 'ORDER_CANCELLED', refund_status: null },
    ]);
    expect(await paymentRows(env.db.pool, asked.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: null },
    ]);
    // One gateway call per charged order, none for the cancelled one.
    expect(env.gateway.orderStats(approved.orderId)).toMatchObject({ chargeCalls: 1, charges: 1 });
    expect(env.gateway.orderStats(asked.orderId)).toMatchObject({ chargeCalls: 1, charges: 1 });
    expect(env.gateway.orderStats(cancelled.orderId)).toMatchObject({ chargeCalls: 0, charges: 0 });

    // One answer per order, each answering the request that asked, each in its order's outbox.
    for (const [order, type, cause] of [
      [approved, 'payment.authorized', approved.reserved.eventId],
      [declined, 'payment.failed', declined.reserved.eventId],
      [cancelled, 'payment.failed', cancelled.reserved.eventId],
      [asked, 'payment.authorized', asked.reserved.eventId],
    ] as const) {
      const events = await outboxOf(env.db.pool, order.orderId);
      expect(events.map((e) => [e.eventType, e.event.causationId])).toEqual([[type, cause]]);
    }
    expect(await outboxOf(env.db.pool, waiting.orderId)).toEqual([]);

    // Decided orders have their fast-path key and no card token; the waiting one keeps its request.
    expect(await env.pipeline.redis.get(dedupKey(approved.orderId))).toBe('AUTHORIZED');
    expect(await env.pipeline.redis.get(dedupKey(declined.orderId))).toBe('FAILED');
    expect(await env.pipeline.redis.get(dedupKey(waiting.orderId))).toBeNull();
    expect(await storedCardToken(env.db.pool, approved.orderId)).toBeNull();
    // Every order's lock was given back.
    for (const order of [approved, declined, waiting, cancelled, asked])
      expect(await env.pipeline.redis.exists(lockKey(order.orderId))).toBe(0);
    // The repeated event is an inbox duplicate, the second request a database one.
    expect(await metricValue(env.pipeline.registry, 'payment_duplicate_total', { layer: 'inbox' })).toBe(1);
    expect(await metricValue(env.pipeline.registry, 'payment_duplicate_total', { layer: 'db' })).toBe(1);

    // The waiting order is charged when its order.created arrives, in the next batch.
    await env.pipeline.handleBatch([waiting.created]);
    expect(await paymentRows(env.db.pool, waiting.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: null },
    ]);
  });

  it('a batch with an order whose lock another worker holds is retried whole, and nothing of it happened', async () => {
    const free = orderScenario('tok_visa');
    const held = orderScenario('tok_visa');
    await env.pipeline.redis.set(lockKey(held.orderId), 'another-worker', 'PX', 60_000);

    await expect(
      env.pipeline.handleBatch([free.created, held.created, free.reserved, held.reserved]),
    ).rejects.toThrow(/being processed by another worker/);
    expect(await paymentRows(env.db.pool, free.orderId)).toEqual([]);
    // The lock just taken for the free order was given back; the other worker's is untouched.
    expect(await env.pipeline.redis.exists(lockKey(free.orderId))).toBe(0);
    expect(await env.pipeline.redis.get(lockKey(held.orderId))).toBe('another-worker');

    await env.pipeline.redis.del(lockKey(held.orderId));
    await env.pipeline.handleBatch([free.created, held.created, free.reserved, held.reserved]);
    for (const order of [free, held])
      expect(await paymentRows(env.db.pool, order.orderId)).toEqual([
        { status: 'AUTHORIZED', failure_reason: null, refund_status: null },
      ]);
  });
});
