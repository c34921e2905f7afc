import { eventually, metricValue, outboxOf } from '@dispatch/testkit';
import type { PaymentGateway } from '../src/gateway/gateway';
import { SimulatedGateway } from '../src/gateway/simulated-gateway';
import { dedupKey } from '../src/redis/dedup-cache';
import { sweepOnce } from '../src/tasks/sweeper';
import {
  createPipeline,
  DEAD_REDIS_URL,
  deliver,
  orderScenario,
  paymentRows,
  storedCardToken,
  testConfig,
  testLogger,
  usePaymentPipeline,
} from './helpers';

/** The handler pipeline against a fresh real database and the real Redis. */
describe('payment handling (real PostgreSQL and Redis)', () => {
  const env = usePaymentPipeline();

  it('tok_visa: authorizes, emits payment.authorized answering inventory.reserved, writes the dedup key', async () => {
    const order = orderScenario('tok_visa');
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);

    expect(await paymentRows(env.db.pool, order.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: null },
    ]);
    const events = await outboxOf(env.db.pool, order.orderId);
    expect(events.map((e) => e.eventType)).toEqual(['payment.authorized']);
    const authorized = events[0]!.event;
    expect(authorized).toMatchObject({
      causationId: order.reserved.eventId,
      correlationId: order.orderId,
      producer: 'payment-service',
      payload: { orderId: order.orderId, amount: '64.99', currency: 'EUR', status: 'AUTHORIZED' },
    });
    expect(env.gateway.orderStats(order.orderId)).toMatchObject({ chargeCalls: 1, charges: 1 });
    expect(await env.pipeline.redis.get(dedupKey(order.orderId))).toBe('AUTHORIZED');
    // The card token is kept only until the charge is decided.
    expect(await storedCardToken(env.db.pool, order.orderId)).toBeNull();
  });

  it('keeps no card token for an order that will never be charged (rejected or cancelled), in any order', async () => {
    const waiting = orderScenario('tok_visa');
    await deliver(env.pipeline, waiting.created);
    expect(await storedCardToken(env.db.pool, waiting.orderId)).toBe('tok_visa');

    const rejectedAfter = orderScenario('tok_visa');
    await deliver(env.pipeline, rejectedAfter.created);
    await deliver(env.pipeline, rejectedAfter.rejected());

    const rejectedFirst = orderScenario('tok_visa');
    await deliver(env.pipeline, rejectedFirst.rejected());
    await deliver(env.pipeline, rejectedFirst.created);

    const cancelled = orderScenario('tok_visa');
    await deliver(env.pipeline, cancelled.created);
    await deliver(env.pipeline, cancelled.cancelled());

    for (const order of [rejectedAfter, rejectedFirst, cancelled]) {
      expect(await storedCardToken(env.db.pool, order.orderId)).toBeNull();
      expect(await outboxOf(env.db.pool, order.orderId)).toEqual([]);
      expect(env.gateway.orderStats(order.orderId).chargeCalls).toBe(0);
    }
  });

  it.each([
    ['tok_declined', 'card_declined'],
    ['tok_insufficient_funds', 'insufficient_funds'],
  ])('%s: payment.failed with %s, nothing charged', async (token, reason) => {
    const order = orderScenario(token);
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);
    expect(await paymentRows(env.db.pool, order.orderId)).toEqual([
      { status: 'FAILED', failure_reason: reason, refund_status: null },
    ]);
    const events = await outboxOf(env.db.pool, order.orderId);
    expect(events.map((e) => e.eventType)).toEqual(['payment.failed']);
    expect(events[0]!.event.payload).toMatchObject({ status: 'FAILED', failureReason: reason });
    expect(env.gateway.orderStats(order.orderId).charges).toBe(0);
    expect(
      await metricValue(env.pipeline.registry, 'payment_failed_total', { reason }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('tok_flaky: authorized after one retry — the gateway is called twice and charges once', async () => {
    const order = orderScenario('tok_flaky');
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);
    expect((await paymentRows(env.db.pool, order.orderId))[0]?.status).toBe('AUTHORIZED');
    expect(env.gateway.orderStats(order.orderId)).toMatchObject({ chargeCalls: 2, charges: 1 });
    expect(
      await metricValue(env.pipeline.registry, 'payment_gateway_request_duration_seconds', {
        operation: 'charge',
        outcome: 'error',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('no card token in order.created: payment.failed invalid_payment_method without calling the gateway', async () => {
    const order = orderScenario(null);
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);
    expect((await paymentRows(env.db.pool, order.orderId))[0]).toMatchObject({
      status: 'FAILED',
      failure_reason: 'invalid_payment_method',
    });
    expect(env.gateway.orderStats(order.orderId).chargeCalls).toBe(0);
  });

  it('inventory.reserved before order.created: the charge waits, stored, and happens when order.created arrives', async () => {
    const order = orderScenario('tok_visa');
    await deliver(env.pipeline, order.reserved);
    expect(await paymentRows(env.db.pool, order.orderId)).toEqual([]);
    expect(await outboxOf(env.db.pool, order.orderId)).toEqual([]);
    expect(env.gateway.orderStats(order.orderId).chargeCalls).toBe(0);

    await deliver(env.pipeline, order.created);
    expect((await paymentRows(env.db.pool, order.orderId))[0]?.status).toBe('AUTHORIZED');
    const events = await outboxOf(env.db.pool, order.orderId);
    expect(events.map((e) => e.eventType)).toEqual(['payment.authorized']);
    // Still the answer to the inventory.reserved, whichever event triggered the charge.
    expect(events[0]!.event.causationId).toBe(order.reserved.eventId);
  });

  it('redelivered and repeated charge requests are skipped by the inbox, Redis and the unique orderId', async () => {
    const order = orderScenario('tok_visa');
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);
    const redisHitsBefore = await metricValue(env.pipeline.registry, 'payment_dedup_redis_hit_total');
    const dbHitsBefore = await metricValue(env.pipeline.registry, 'payment_dedup_db_hit_total');

    // Fast path: the dedup key answers.
    await deliver(env.pipeline, order.reserved);
    expect(await metricValue(env.pipeline.registry, 'payment_dedup_redis_hit_total')).toBe(
      redisHitsBefore + 1,
    );

    // Without the key (evicted), a new eventId for the same order meets the unique orderId.
    await env.pipeline.redis.del(dedupKey(order.orderId));
    await deliver(env.pipeline, order.reservedAgain());
    expect(await metricValue(env.pipeline.registry, 'payment_dedup_db_hit_total')).toBe(dbHitsBefore + 1);

    // Without the key, the same envelope again is an inbox duplicate.
    await env.pipeline.redis.del(dedupKey(order.orderId));
    const inboxBefore = await metricValue(env.pipeline.registry, 'payment_duplicate_total', {
      layer: 'inbox',
    });
    await deliver(env.pipeline, order.reserved);
    expect(await metricValue(env.pipeline.registry, 'payment_duplicate_total', { layer: 'inbox' })).toBe(
      inboxBefore + 1,
    );

    expect(await paymentRows(env.db.pool, order.orderId)).toHaveLength(1);
    expect((await outboxOf(env.db.pool, order.orderId)).map((e) => e.eventType)).toEqual([
      'payment.authorized',
    ]);
    expect(env.gateway.orderStats(order.orderId)).toMatchObject({ chargeCalls: 1, charges: 1 });
  });

  it('refunds once on delivery.failed, however often it (or another delivery.failed) arrives', async () => {
    const order = orderScenario('tok_visa');
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);
    const failed = order.deliveryFailed();
    await deliver(env.pipeline, failed);
    await deliver(env.pipeline, failed);
    await deliver(env.pipeline, order.deliveryFailed());
    await deliver(env.pipeline, order.cancelled());

    expect(await paymentRows(env.db.pool, order.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: 'REFUNDED' },
    ]);
    const events = await outboxOf(env.db.pool, order.orderId);
    expect(events.map((e) => e.eventType)).toEqual(['payment.authorized', 'payment.refunded']);
    expect(events[1]!.event).toMatchObject({
      causationId: failed.eventId,
      payload: { status: 'REFUNDED', reason: 'DELIVERY_FAILED', amount: '64.99' },
    });
    expect(env.gateway.orderStats(order.orderId)).toMatchObject({ charges: 1, refunds: 1 });
    expect(
      await metricValue(env.pipeline.registry, 'payment_refunds_total', { reason: 'DELIVERY_FAILED' }),
    ).toBe(1);
  });

  it('refunds once on order.cancelled after authorization, duplicates delivered concurrently', async () => {
    const order = orderScenario('tok_visa');
    await deliver(env.pipeline, order.created);
    await deliver(env.pipeline, order.reserved);
    const cancelled = order.cancelled();
    const second = createPipeline({ pool: env.db.newPool(), gateway: env.gateway });
    try {
      await Promise.all([
        ...Array.from({ length: 5 }, () => deliver(env.pipeline, cancelled)),
        ...Array.from({ length: 5 }, () => deliver(second, cancelled)),
      ]);
    } finally {
      await second.close();
    }
    const events = await outboxOf(env.db.pool, order.orderId);
    expect(events.map((e) => e.eventType)).toEqual(['payment.authorized', 'payment.refunded']);
    expect(events[1]!.event.payload).toMatchObject({ reason: 'ORDER_CANCELLED' });
    expect(env.gateway.orderStats(order.orderId)).toMatchObject({ charges: 1, refunds: 1 });
  });

  it('cancel before charge: inventory.reserved is answered with payment.failed ORDER_CANCELLED, nothing charged', async () => {
    const cancelledFirst = orderScenario('tok_visa');
    await deliver(env.pipeline, cancelledFirst.cancelled());
    await deliver(env.pipeline, cancelledFirst.created);
    await deliver(env.pipeline, cancelledFirst.reserved);

    // The charge was waiting for order.created when the cancellation came.
    const waiting = orderScenario('tok_visa');
    await deliver(env.pipeline, waiting.reserved);
    await deliver(env.pipeline, waiting.cancelled());
    await deliver(env.pipeline, waiting.created);

    for (const order of [cancelledFirst, waiting]) {
      expect(await paymentRows(env.db.pool, order.orderId)).toEqual([
        { status: 'FAILED', failure_reason: 'ORDER_CANCELLED', refund_status: null },
      ]);
      const events = await outboxOf(env.db.pool, order.orderId);
      expect(events.map((e) => e.eventType)).toEqual(['payment.failed']);
      expect(events[0]!.event.causationId).toBe(order.reserved.eventId);
      expect(env.gateway.orderStats(order.orderId).chargeCalls).toBe(0);
    }
  });

  it('a cancellation that races the gateway call ends authorized and then refunded', async () => {
    const slowGateway = new SimulatedGateway({ latencyMs: 300 });
    const config = testConfig({ GATEWAY_TIMEOUT_MS: '1000', GATEWAY_RETRIES: '0' });
    const slow = createPipeline({ pool: env.db.newPool(), gateway: slowGateway, config });
    // Without Redis, so the Redis lock held by the charging worker does not hold the cancellation back.
    const other = createPipeline({
      pool: env.db.newPool(),
      gateway: slowGateway,
      config,
      redisUrl: DEAD_REDIS_URL,
    });
    try {
      const order = orderScenario('tok_visa');
      await deliver(slow, order.created);
      const charging = deliver(slow, order.reserved);
      await eventually(async () => {
        expect((await paymentRows(env.db.pool, order.orderId))[0]?.status).toBe('PENDING');
      });
      await Promise.all([charging, deliver(other, order.cancelled())]);
      const events = await outboxOf(env.db.pool, order.orderId);
      expect(events.map((e) => e.eventType)).toEqual(['payment.authorized', 'payment.refunded']);
      expect(slowGateway.orderStats(order.orderId)).toMatchObject({ charges: 1, refunds: 1 });
    } finally {
      await Promise.all([slow.close(), other.close()]);
    }
  });

  it('a crash between the gateway call and the commit: the redelivery (or the sweeper) finishes it, charged once', async () => {
    // The first charge reaches the gateway and is approved, then the worker "dies" before committing.
    let crashes = 1;
    const crashing: PaymentGateway = {
      charge: async (request, signal) => {
        const result = await env.gateway.charge(request, signal);
        if (crashes-- > 0) throw new Error('worker died after the gateway answered');
        return result;
      },
      refund: (request, signal) => env.gateway.refund(request, signal),
    };
    const worker = createPipeline({ pool: env.db.newPool(), gateway: crashing });
    try {
      const viaRedelivery = orderScenario('tok_visa');
      await deliver(worker, viaRedelivery.created);
      await expect(worker.handle(viaRedelivery.reserved)).rejects.toThrow('worker died');
      expect((await paymentRows(env.db.pool, viaRedelivery.orderId))[0]?.status).toBe('PENDING');
      // Redelivery: in flight under the dead worker's lease until it expires, then resumed with the same key.
      await deliver(worker, viaRedelivery.reserved);
      expect((await paymentRows(env.db.pool, viaRedelivery.orderId))[0]?.status).toBe('AUTHORIZED');
      expect(env.gateway.orderStats(viaRedelivery.orderId)).toMatchObject({ chargeCalls: 2, charges: 1 });
      expect((await outboxOf(env.db.pool, viaRedelivery.orderId)).map((e) => e.eventType)).toEqual([
        'payment.authorized',
      ]);

      crashes = 1;
      const viaSweeper = orderScenario('tok_visa');
      await deliver(worker, viaSweeper.created);
      await expect(worker.handle(viaSweeper.reserved)).rejects.toThrow('worker died');
      await eventually(
        async () => {
          await sweepOnce(worker.deps, testLogger);
          expect((await paymentRows(env.db.pool, viaSweeper.orderId))[0]?.status).toBe('AUTHORIZED');
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(env.gateway.orderStats(viaSweeper.orderId)).toMatchObject({ chargeCalls: 2, charges: 1 });
    } finally {
      await worker.close();
    }
  });
});

describe('gateway timeouts and the circuit breaker (real PostgreSQL and Redis)', () => {
  const env = usePaymentPipeline({
    GATEWAY_TIMEOUT_MS: '100',
    GATEWAY_RETRIES: '2',
    BREAKER_CONSECUTIVE_FAILURES: '3',
    BREAKER_HALF_OPEN_AFTER_MS: '60000',
  });

  it('tok_gateway_timeout: fails with gateway_unavailable after the retries; the breaker opens; the next order fails fast', async () => {
    expect(await metricValue(env.pipeline.registry, 'payment_circuit_breaker_state')).toBe(0);

    const timeout = orderScenario('tok_gateway_timeout');
    await deliver(env.pipeline, timeout.created);
    await deliver(env.pipeline, timeout.reserved);
    expect((await paymentRows(env.db.pool, timeout.orderId))[0]).toMatchObject({
      status: 'FAILED',
      failure_reason: 'gateway_unavailable',
    });
    const failed = await outboxOf(env.db.pool, timeout.orderId);
    expect(failed.map((e) => e.eventType)).toEqual(['payment.failed']);
    expect(failed[0]!.event.payload).toMatchObject({ failureReason: 'gateway_unavailable' });
    expect(env.gateway.orderStats(timeout.orderId)).toMatchObject({ chargeCalls: 3, charges: 0 });
    expect(
      await metricValue(env.pipeline.registry, 'payment_gateway_request_duration_seconds', {
        operation: 'charge',
        outcome: 'timeout',
      }),
    ).toBe(3);

    // Three consecutive timed-out attempts opened the breaker.
    expect(await metricValue(env.pipeline.registry, 'payment_circuit_breaker_state')).toBe(2);

    // While it is open a charge is not attempted: payment.failed gateway_unavailable, so inventory is released now.
    const blocked = orderScenario('tok_visa');
    await deliver(env.pipeline, blocked.created);
    await deliver(env.pipeline, blocked.reserved);
    expect((await paymentRows(env.db.pool, blocked.orderId))[0]).toMatchObject({
      status: 'FAILED',
      failure_reason: 'gateway_unavailable',
    });
    expect(env.gateway.orderStats(blocked.orderId).chargeCalls).toBe(0);
  });
});
