import type { AnyEvent } from '@dispatch/contracts';
import {
  assertStackReachable,
  dropTestDatabase,
  eventually,
  type InProcessService,
  outboxOf,
  type RawProducer,
  rawProducer,
  startInProcess,
  uniqueName,
} from '@dispatch/testkit';
import { SimulatedGateway } from '../src/gateway/simulated-gateway';
import { paymentService } from '../src/service';
import { DEAD_REDIS_URL, orderScenario, TEST_ISSUER, testConfig } from './helpers';

/**
 * payment-service started the way main.ts starts it (startService, port 0, its own fresh database),
 * fed through the real Kafka raw topics. Its Redis is pointed at a port where nothing listens: the
 * service must still be ready and still take payments.
 *
 * The instance acts only on the events this test published (its own consumer group, a filter on
 * eventId). A filter on orderId is not enough: the raw topics are shared with a running stack, whose
 * services react to this test's order.created like to any other — its inventory-service answers with
 * its own inventory.reserved or inventory.rejected (OUT_OF_STOCK), its delivery-service with
 * delivery.failed — under this test's orderIds. Such an inventory.rejected, consumed before
 * order.created, made the card token be refused and the charge fail with invalid_payment_method.
 */
describe('payment-service in-process (real Kafka and PostgreSQL, Redis down)', () => {
  const database = uniqueName('it_payment_svc');
  const orderPrefix = `order-svc-${uniqueName('t')}`;
  const gateway = new SimulatedGateway();
  /** eventIds of the events this test published: the only ones its service instance acts on. */
  const published = new Set<string>();
  let service: InProcessService;
  let producer: RawProducer;
  let base: string;

  beforeAll(async () => {
    await assertStackReachable(['postgres', 'redis', 'kafka']);
    const config = testConfig({ PGDATABASE: database, REDIS_URL: DEAD_REDIS_URL });
    service = await startInProcess(paymentService({ ...config, PORT: 0 }, { gateway }), {
      consumers: {
        groupId: uniqueName('payment-service-it'),
        acceptEvent: (event: AnyEvent) => published.has(event.eventId),
      },
    });
    base = service.base;
    producer = await rawProducer();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await dropTestDatabase(database);
  });

  const send = (events: AnyEvent[]) => producer.send(events);
  /** Publishes events as this test's own: the service acts on them. */
  const publish = (events: AnyEvent[]) => {
    for (const event of events) published.add(event.eventId);
    return send(events);
  };

  it('is ready without Redis (Redis costs speed, not availability)', async () => {
    const res = await fetch(`${base}/health/ready`);
    const body = (await res.json()) as { checks: Record<string, { status: string }> };
    expect(res.status).toBe(200);
    expect(body.checks.postgres?.status).toBe('ok');
    expect(body.checks.kafka?.status).toBe('ok');
    expect(body.checks.redis).toBeUndefined();
  });

  it('consumes order.created and inventory.reserved from Kafka, charges, and publishes through the outbox', async () => {
    const approved = orderScenario('tok_visa', `${orderPrefix}-approved`);
    const declined = orderScenario('tok_declined', `${orderPrefix}-declined`);
    // What a running stack's inventory-service publishes when it sees approved's order.created and the
    // frother is out of stock: an event about this test's order that this test did not publish. Ahead
    // of approved's reservation on the same partition, so the service has consumed it before it charges.
    const foreignRejection = approved.rejected();
    await send([foreignRejection]);
    // The reservation first: the charge waits for order.created.
    await publish([approved.reserved, declined.created]);
    await publish([approved.created, declined.reserved]);

    const pool = service.ctx.pool!;
    await eventually(
      async () => {
        const events = await outboxOf(pool, approved.orderId);
        expect(events.map((e) => [e.eventType, e.sent])).toEqual([['payment.authorized', true]]);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await eventually(
      async () => {
        const events = await outboxOf(pool, declined.orderId);
        expect(events.map((e) => [e.eventType, e.sent])).toEqual([['payment.failed', true]]);
        expect(events[0]!.event.payload).toMatchObject({ failureReason: 'card_declined' });
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(gateway.orderStats(approved.orderId).charges).toBe(1);
    // The foreign inventory.rejected was skipped, never recorded (it would have dropped the card token).
    const inbox = await pool.query('SELECT 1 FROM inbox WHERE event_id = $1', [foreignRejection.eventId]);
    expect(inbox.rowCount).toBe(0);

    // Operators can look the payment up (admin only).
    const admin = await TEST_ISSUER.sign('admin-1', 'admin');
    const customer = await TEST_ISSUER.sign(approved.customerId, 'customer');
    const found = await fetch(`${base}/api/payments/${approved.orderId}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({
      orderId: approved.orderId,
      status: 'AUTHORIZED',
      amount: '64.99',
      currency: 'EUR',
      refund: null,
    });
    const asCustomer = await fetch(`${base}/api/payments/${approved.orderId}`, {
      headers: { authorization: `Bearer ${customer}` },
    });
    expect(asCustomer.status).toBe(403);
    expect((await fetch(`${base}/api/payments/${approved.orderId}`)).status).toBe(401);
    const missing = await fetch(`${base}/api/payments/${orderPrefix}-nope`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');

    // Refund on delivery.failed, also end to end.
    await publish([approved.deliveryFailed()]);
    await eventually(
      async () => {
        const events = await outboxOf(pool, approved.orderId);
        expect(events.map((e) => [e.eventType, e.sent])).toEqual([
          ['payment.authorized', true],
          ['payment.refunded', true],
        ]);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });

  it('serves its metrics and OpenAPI document', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^payment_processed_total\{[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^payment_circuit_breaker_state\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^saga_stage_latency_seconds_count\{[^}]*stage="payment.authorized"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^payment_refunds_total\{[^}]*reason="DELIVERY_FAILED"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^saga_stage_latency_seconds_count\{[^}]*stage="payment.refunded"[^}]*\} 1$/m);
    // Every Redis layer was skipped and counted, none of it stopped a payment.
    expect(metrics).toMatch(/^payment_redis_errors_total\{[^}]*operation="lock"[^}]*\} [1-9]/m);

    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(['/api/payments/{orderId}']);
  });
});
