import { eventually, killService, requireRunningServices, restartService, tokenFor } from '@dispatch/testkit';
import { createItem, mapConcurrently, uniqueId } from './support/api';
import {
  type Driver,
  distinctEvents,
  ensureFreeDrivers,
  PAYMENT_DB,
  paymentOutboxRowsPerOrder,
  paymentRowsPerOrder,
  placeOrderPaidWith,
  putDriver,
  readPaymentEvents,
  type SagaView,
  SETTLED,
  settleOrders,
  waitForView,
  withDatabase,
} from './support/saga';

const ORDERS = 200;
/** Our own fleet (fixed ids, reused across runs), on duty only during this test, so paid orders get a driver. */
const FLEET = Array.from({ length: ORDERS }, (_, i) => `e2e-fleet-${String(i + 1).padStart(3, '0')}`);

/** How these orders' payments stand in payment_db right now. */
async function paymentProgress(orderIds: string[]): Promise<{ decided: number; pending: number }> {
  const rows = await withDatabase(PAYMENT_DB, (query) =>
    query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM payments WHERE order_id = ANY($1) GROUP BY status',
      [orderIds],
    ),
  );
  const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0;
  return { decided: count('AUTHORIZED') + count('FAILED'), pending: count('PENDING') };
}

/**
 * payment-service killed with SIGKILL in the middle of 200 payments: charges in flight (PENDING rows
 * with a lease, Redis locks, uncommitted offsets) are finished by the restarted instance, and no order
 * is charged twice.
 */
describe('payment-service killed with SIGKILL mid-batch', () => {
  const placed: { orderId: string; customerId: string }[] = [];
  const topUp: Driver[] = [];

  beforeAll(async () => {
    await requireRunningServices([
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
      'query-api',
    ]);
    await mapConcurrently(FLEET, 10, (driverId) => putDriver(driverId, `E2E fleet ${driverId}`, 'AVAILABLE'));
    // Fleet drivers taken by other tests' waiting orders in earlier runs are made up for.
    topUp.push(...(await ensureFreeDrivers(ORDERS)));
  });

  afterAll(async () => {
    // Deliveries completed, the rest cancelled, then the fleet goes off duty again.
    await settleOrders(placed);
    await mapConcurrently(FLEET, 10, (driverId) =>
      putDriver(driverId, `E2E fleet ${driverId}`, 'OFF_DUTY').catch(() => undefined),
    );
    await mapConcurrently(topUp, 10, (driver) =>
      putDriver(driver.driverId, driver.name, 'OFF_DUTY').catch(() => undefined),
    );
  });

  it('every order settles (DELIVERY_ASSIGNED or terminal) and none is charged twice', async () => {
    const item = await createItem({ available: ORDERS, unitPrice: '1.25' });
    const customers = Array.from({ length: ORDERS }, () => uniqueId('e2e-paycrash'));
    const tokens = await Promise.all(customers.map((customerId) => tokenFor(customerId)));

    // Place the orders; as soon as the first payments are decided, kill payment-service.
    let lastSeen: { decided: number; pending: number } | undefined;
    let atKill: { decided: number; pending: number } | undefined;
    const customersWithTokens = customers.map((customerId, i) => ({ customerId, token: tokens[i]! }));
    const placing = mapConcurrently(customersWithTokens, 20, async ({ customerId, token }) => {
      const created = await placeOrderPaidWith(
        customerId,
        [{ itemId: item.itemId, quantity: 1, unitPrice: '1.25' }],
        'tok_visa',
        token,
      );
      placed.push({ orderId: created.orderId, customerId });
      return created.orderId;
    });
    try {
      // Aim for a moment with a charge between its PENDING commit and its completion (the gateway
      // call takes GATEWAY_LATENCY_MS); if none is caught before most are decided, kill anyway.
      lastSeen = await eventually(
        async () => {
          const progress = await paymentProgress(placed.map((order) => order.orderId));
          const midCharge = progress.decided >= 20 && progress.pending > 0;
          if (!midCharge && progress.decided < ORDERS / 2) {
            throw new Error(`${progress.decided} payments decided, ${progress.pending} pending so far`);
          }
          return progress;
        },
        { timeoutMs: 120_000, intervalMs: 5 },
      );
      await killService('payment-service', 'SIGKILL');
      atKill = await paymentProgress(placed.map((order) => order.orderId));
    } finally {
      await placing.catch(() => undefined);
      await restartService('payment-service');
    }
    const orderIds = await placing;
    expect(orderIds).toHaveLength(ORDERS);
    console.info(
      `payment-service killed with ${atKill?.decided} of ${ORDERS} payments decided and ${atKill?.pending} PENDING ` +
        `(just before the kill: ${lastSeen?.decided} decided, ${lastSeen?.pending} PENDING)`,
    );
    expect(atKill!.decided).toBeLessThan(ORDERS); // the kill did land mid-batch

    // Leases of the killed instance expire (LOCK_TTL_MS, 15 s), redeliveries and the sweeper finish them.
    // (The read model may show delivery.assigned before payment.authorized: they come on two topics.)
    const views: SagaView[] = await mapConcurrently(orderIds, 20, (orderId) =>
      waitForView(
        orderId,
        (view) => {
          if (!SETTLED.includes(view.status) || !view.payment) {
            throw new Error(
              `order ${orderId} is ${view.status}, payment ${view.payment?.status ?? 'not seen yet'}`,
            );
          }
        },
        180_000,
      ),
    );
    const byStatus = new Map<string, number>();
    for (const view of views) byStatus.set(view.status, (byStatus.get(view.status) ?? 0) + 1);
    console.info(`statuses after the crash: ${JSON.stringify(Object.fromEntries(byStatus))}`);
    for (const view of views) expect(view.payment?.status).toBe('AUTHORIZED');

    // Charged once: one payments row per order, one payment.authorized decided and published each.
    const rows = await paymentRowsPerOrder(orderIds);
    const authorizedInOutbox = await paymentOutboxRowsPerOrder(orderIds, 'payment.authorized');
    const log = await readPaymentEvents(orderIds);
    const notOnce = orderIds.filter(
      (orderId) =>
        rows.get(orderId)?.count !== 1 ||
        rows.get(orderId)?.statuses[0] !== 'AUTHORIZED' ||
        authorizedInOutbox.get(orderId) !== 1 ||
        distinctEvents(log, orderId, 'payment.authorized') !== 1 ||
        distinctEvents(log, orderId, 'payment.failed') !== 0,
    );
    expect(notOnce).toEqual([]);
    // A relay killed between publishing and marking its rows sent publishes them again (same eventId).
    console.info(`raw.payment-events: ${log.records} records for these orders`);
  });
});
