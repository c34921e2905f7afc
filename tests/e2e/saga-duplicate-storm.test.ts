import { randomUUID } from 'node:crypto';
import { createEvent, Topics } from '@dispatch/contracts';
import type { EventProducer } from '@dispatch/platform';
import {
  type ExtraInstance,
  eventually,
  FaultProxy,
  freePort,
  groupState,
  requireRunningServices,
  restartService,
  restartServiceWithEnv,
  serviceUrl,
  stackAddresses,
  startExtraInstance,
} from '@dispatch/testkit';
import { createItem, uniqueId } from './support/api';
import {
  connectProducer,
  type Driver,
  distinctEvents,
  ensureFreeDrivers,
  getPayment,
  messageOf,
  metricSum,
  PAYMENT_DB,
  paymentOutboxRowsPerOrder,
  paymentRowsPerOrder,
  putDriver,
  readPaymentEvents,
  scrape,
  settleOrders,
  timelineCount,
  waitForView,
  withDatabase,
} from './support/saga';

const COPIES = 50;

/** What one payment-service instance has counted so far (its /metrics). */
async function countersOf(url: string) {
  const text = await scrape(url);
  const consumed = (outcome: string) =>
    metricSum(text, 'kafka_events_consumed_total', {
      topic: Topics.inventory,
      event_type: 'inventory.reserved',
      outcome,
    });
  return {
    processed: consumed('processed'),
    deadLettered: consumed('dead_lettered'),
    duplicates: metricSum(text, 'payment_duplicate_total'),
    redisErrors: metricSum(text, 'payment_redis_errors_total'),
  };
}

type Counters = Awaited<ReturnType<typeof countersOf>>;

/**
 * The same inventory.reserved envelope, delivered 50 times at once to three payment-service
 * instances (the stack's own and two more in its consumer group), must be charged once: one payments
 * row, one payment.authorized. With Redis (lock + fast path) and without it (Postgres alone).
 */
describe('a duplicate storm of one inventory.reserved across three payment-service instances', () => {
  const instances: ExtraInstance[] = [];
  const placed: { orderId: string; customerId: string }[] = [];
  const drivers: Driver[] = [];
  let producer: EventProducer | undefined;
  // The machine's Redis is shared: the three instances reach it through a proxy, which the second
  // test cuts to take Redis away from them.
  const redis = new URL(stackAddresses().redisUrl);
  const redisProxy = new FaultProxy({ host: redis.hostname, port: Number(redis.port || 6379) });

  beforeAll(async () => {
    await requireRunningServices(['inventory-service', 'payment-service', 'query-api']);
    const proxied = new URL(redis);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(await redisProxy.start());
    const env = { REDIS_URL: proxied.toString() };
    await restartServiceWithEnv('payment-service', env);
    const ports = [await freePort(), await freePort()];
    for (const port of ports) instances.push(await startExtraInstance('payment-service', port, env));
    // "Every instance took part" needs the group settled with all three members holding partitions:
    // a member that is ready has joined once, but the others may still be rebalancing around it.
    await eventually(
      async () => {
        const group = await groupState('payment-service');
        if (group.state !== 'Stable' || group.members !== 3)
          throw new Error(`payment-service group is ${group.state} with ${group.members} members`);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    producer = await connectProducer();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await Promise.all(instances.map((instance) => instance.stop()));
    await redisProxy.restore();
    await restartService('payment-service'); // back on the stack's own Redis address
    await redisProxy.close();
    await settleOrders(placed);
    for (const driver of drivers)
      await putDriver(driver.driverId, driver.name, 'OFF_DUTY').catch(() => undefined);
  });

  const urls = () => [serviceUrl('payment-service'), ...instances.map((instance) => instance.url)];

  /**
   * Publishes an order.created (a fresh order of a fresh item, paid with tok_visa) and, right behind
   * it, 50 copies of one inventory.reserved for it, then waits until all three instances have
   * handled their copies and the payment is decided. inventory-service also answers the
   * order.created with its own inventory.reserved (another eventId): one more duplicate.
   */
  async function storm(): Promise<{ orderId: string; before: Counters[]; after: Counters[] }> {
    const item = await createItem({ available: 5, unitPrice: '2.00' });
    // A driver for the paid order, so it ends DELIVERY_ASSIGNED (then completed in afterAll) rather than
    // waiting and being refunded later by whichever instance is left.
    drivers.push(...(await ensureFreeDrivers(1)));
    const orderId = randomUUID();
    const customerId = uniqueId('e2e-storm');
    placed.push({ orderId, customerId });
    const lines = [{ itemId: item.itemId, quantity: 2, unitPrice: '2.00' }];
    const orderCreated = createEvent({
      eventType: 'order.created',
      orderId,
      correlationId: orderId,
      // As if written by their own services: consumers dead-letter events from anyone else.
      producer: 'order-service',
      payload: {
        orderId,
        customerId,
        totalAmount: '4.00',
        currency: 'EUR',
        items: lines,
        deliveryAddress: {
          line1: '1 Test Street',
          city: 'London',
          postcode: 'EC1A 1BB',
          lat: 51.52,
          lng: -0.1,
        },
        paymentMethod: { type: 'card', token: 'tok_visa' },
      },
    });
    const reserved = createEvent({
      eventType: 'inventory.reserved',
      orderId,
      correlationId: orderId,
      causationId: orderCreated.eventId,
      producer: 'inventory-service',
      payload: { orderId, customerId, amount: '4.00', currency: 'EUR', lines },
    });

    const before = await Promise.all(urls().map(countersOf));
    await producer!.publish([messageOf(orderCreated, Topics.order)]);
    // Once payment knows the order (and its card token) every copy is a charge request it can act on
    // at once (not one parked until order.created); inventory's own inventory.reserved races them.
    await eventually(
      async () => {
        const [row] = await withDatabase(PAYMENT_DB, (query) =>
          query<{ order_seen: boolean }>('SELECT order_seen FROM payment_orders WHERE order_id = $1', [
            orderId,
          ]),
        );
        if (!row?.order_seen) throw new Error('payment-service has not handled the order.created yet');
      },
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    // The copies get different Kafka keys on purpose, so they land on every partition and so on all
    // three instances at once: what happens when a rebalance or a replay hands one event to a second
    // owner while the first still works on it. Consumers dedupe by the envelope, never by the key.
    await producer!.publish(
      Array.from({ length: COPIES }, (_, i) =>
        messageOf(reserved, Topics.inventory, i === 0 ? orderId : `${orderId}/copy-${i}`),
      ),
    );

    const after = await eventually(
      async () => {
        const now = await Promise.all(urls().map(countersOf));
        const handled = now.reduce((sum, counters, i) => sum + counters.processed - before[i]!.processed, 0);
        if (handled < COPIES + 1)
          throw new Error(`${handled} of ${COPIES + 1} inventory.reserved handled so far`);
        return now;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await eventually(async () => {
      const payment = await getPayment(orderId);
      if (payment?.status !== 'AUTHORIZED')
        throw new Error(`payment is ${payment?.status ?? 'not there yet'}`);
    });
    return { orderId, before, after };
  }

  /** One payments row, one payment.authorized in the outbox, the topic and the read model. */
  async function expectChargedOnce(orderId: string): Promise<void> {
    const rows = (await paymentRowsPerOrder([orderId])).get(orderId);
    expect(rows).toEqual({ count: 1, statuses: ['AUTHORIZED'] });
    expect((await paymentOutboxRowsPerOrder([orderId], 'payment.authorized')).get(orderId)).toBe(1);
    expect((await paymentOutboxRowsPerOrder([orderId], 'payment.failed')).get(orderId)).toBe(0);
    await eventually(
      async () => {
        const log = await readPaymentEvents([orderId]);
        if (distinctEvents(log, orderId, 'payment.authorized') === 0)
          throw new Error('payment.authorized not published yet');
        expect(distinctEvents(log, orderId, 'payment.authorized')).toBe(1);
        expect(distinctEvents(log, orderId, 'payment.failed')).toBe(0);
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const view = await waitForView(orderId, (v) => {
      if (!v.payment) throw new Error(`order is ${v.status}, payment not in the read model yet`);
    });
    expect(timelineCount(view, 'payment.authorized')).toBe(1);
    expect(view.payment).toMatchObject({ status: 'AUTHORIZED', amount: '4.00' });
  }

  function report(label: string, before: Counters[], after: Counters[]): void {
    const lines = after.map((counters, i) => {
      const was = before[i]!;
      return `  instance ${i}: handled ${counters.processed - was.processed}, duplicates ${
        counters.duplicates - was.duplicates
      }, redis errors ${counters.redisErrors - was.redisErrors}`;
    });
    console.info(`${label}\n${lines.join('\n')}`);
  }

  it('with Redis: one payments row and one payment.authorized', async () => {
    const { orderId, before, after } = await storm();
    report('duplicate storm with Redis', before, after);

    // Every instance took part, and no copy was dead-lettered.
    for (const [i, counters] of after.entries()) {
      expect(counters.processed - before[i]!.processed).toBeGreaterThan(0);
      expect(counters.deadLettered).toBe(before[i]!.deadLettered);
    }
    // Every charge request but the one that charged was recognised as a duplicate, by some layer.
    const duplicates = after.reduce(
      (sum, counters, i) => sum + counters.duplicates - before[i]!.duplicates,
      0,
    );
    expect(duplicates).toBeGreaterThanOrEqual(COPIES);
    await expectChargedOnce(orderId);
  });

  it('with Redis unreachable: still one payments row and one payment.authorized', async () => {
    await redisProxy.refuse();
    let result: Awaited<ReturnType<typeof storm>>;
    try {
      result = await storm();
    } finally {
      await redisProxy.restore();
    }
    const { orderId, before, after } = result;
    report('duplicate storm without Redis', before, after);

    for (const [i, counters] of after.entries()) {
      expect(counters.processed - before[i]!.processed).toBeGreaterThan(0);
      expect(counters.deadLettered).toBe(before[i]!.deadLettered);
    }
    // The services noticed: Redis commands failed, and they went on without them.
    const redisErrors = after.reduce(
      (sum, counters, i) => sum + counters.redisErrors - before[i]!.redisErrors,
      0,
    );
    expect(redisErrors).toBeGreaterThan(0);
    await expectChargedOnce(orderId);
  });
});
