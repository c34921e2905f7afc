import { assertStackReachable, outboxOf, stackAddresses } from '@dispatch/testkit';
import { SimulatedGateway } from '../src/gateway/simulated-gateway';
import {
  createPaymentDatabase,
  createPipeline,
  DEAD_REDIS_URL,
  deliver,
  orderScenario,
  type Pipeline,
  paymentRows,
  type TestDatabase,
  testConfig,
  totalOver,
} from './helpers';

const DELIVERIES_PER_INSTANCE = 50;
const INSTANCES = 3;

/**
 * The same inventory.reserved envelope handled 50 times concurrently by each of three independent
 * pipelines (own pool, own Redis client, own breaker and metrics: three instances of the service)
 * sharing one gateway. Exactly one payment, one payment.authorized, one charge — with Redis, and again
 * with every instance's Redis pointed at a port where nothing listens.
 */
describe.each([
  ['Redis up', stackAddresses().redisUrl],
  ['Redis unavailable', DEAD_REDIS_URL],
])('duplicate storm, %s (real PostgreSQL)', (_label, redisUrl) => {
  let db: TestDatabase;
  let gateway: SimulatedGateway;
  let instances: Pipeline[];

  beforeAll(async () => {
    await assertStackReachable(['postgres', 'redis']);
    db = await createPaymentDatabase();
    // A little latency keeps the first charge in flight while the duplicates arrive.
    gateway = new SimulatedGateway({ latencyMs: 20 });
    instances = Array.from({ length: INSTANCES }, () =>
      createPipeline({ pool: db.newPool(4), gateway, redisUrl, config: testConfig({ LOCK_TTL_MS: '5000' }) }),
    );
  });

  afterAll(async () => {
    await Promise.all((instances ?? []).map((instance) => instance.close()));
    await db?.drop();
  });

  it('charges once and announces once', async () => {
    const order = orderScenario('tok_visa');
    await deliver(instances[0]!, order.created);

    const deliveries = instances.flatMap((instance) =>
      Array.from({ length: DELIVERIES_PER_INSTANCE }, () => deliver(instance, order.reserved)),
    );
    await Promise.all(deliveries);

    expect(await paymentRows(db.pool, order.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: null },
    ]);
    const events = await outboxOf(db.pool, order.orderId);
    expect(events.map((e) => e.eventType)).toEqual(['payment.authorized']);
    // Charged once. (Calls may exceed one if a slow machine lets the first worker's lease expire: the
    // worker taking over repeats the call with the same idempotency key and gets the same answer.)
    expect(gateway.orderStats(order.orderId).charges).toBe(1);

    // Every delivery but one was recognised as a duplicate by one of the layers.
    expect(await totalOver(instances, 'payment_processed_total')).toBe(1);
    expect(await totalOver(instances, 'payment_duplicate_total')).toBe(
      INSTANCES * DELIVERIES_PER_INSTANCE - 1,
    );
    if (redisUrl === DEAD_REDIS_URL) {
      expect(await totalOver(instances, 'payment_redis_errors_total')).toBeGreaterThan(0);
      expect(await totalOver(instances, 'payment_dedup_redis_hit_total')).toBe(0);
    }
  });

  it('refunds once when the same order.cancelled storms in afterwards', async () => {
    const order = orderScenario('tok_visa');
    await deliver(instances[0]!, order.created);
    await deliver(instances[1]!, order.reserved);
    const cancelled = order.cancelled();
    await Promise.all(
      instances.flatMap((instance) => Array.from({ length: 20 }, () => deliver(instance, cancelled))),
    );
    expect(await paymentRows(db.pool, order.orderId)).toEqual([
      { status: 'AUTHORIZED', failure_reason: null, refund_status: 'REFUNDED' },
    ]);
    expect((await outboxOf(db.pool, order.orderId)).map((e) => e.eventType)).toEqual([
      'payment.authorized',
      'payment.refunded',
    ]);
    expect(gateway.orderStats(order.orderId)).toMatchObject({ charges: 1, refunds: 1 });
    expect(await totalOver(instances, 'payment_refunds_total')).toBe(1);
  });
});
