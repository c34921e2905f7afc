import { eventually, requireRunningServices, serviceUrl, tokenFor } from '@dispatch/testkit';
import {
  admin,
  createItem,
  type Driver,
  ensureFreeDrivers,
  expectStatus,
  FAR_FROM_DEPOT_ADDRESS,
  getDelivery,
  http,
  mapConcurrently,
  type OrderView,
  orderBody,
  postOrder,
  putDriver,
  readOrder,
  uniqueId,
} from './support/api';

/**
 * The local stack's simulated driver fleet (FLEET_SIMULATION=on, 120× real time): orders placed as
 * the README's quick start places them reach DELIVERED with nobody calling complete, and the
 * position API a driver app would use answers on the running delivery-service.
 */
describe('the simulated driver fleet on the running stack', () => {
  const drivers: Driver[] = [];

  beforeAll(() =>
    requireRunningServices([
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
      'query-api',
    ]),
  );

  afterAll(async () => {
    for (const driver of drivers)
      await putDriver(driver.driverId, driver.name, 'OFF_DUTY').catch(() => undefined);
  });

  it('quick-start orders reach DELIVERED by themselves, the ETA and the position following the driver', async () => {
    const item = await createItem({ available: 10, unitPrice: '12.50' });
    const orders = 3;
    drivers.push(...(await ensureFreeDrivers(orders, 'e2e-fleet')));
    const placed = await mapConcurrently(
      Array.from({ length: orders }, () => uniqueId('e2e-fleet')),
      orders,
      async (customerId) => {
        // The README's request: same address, one priced line, tok_visa.
        const answer = await postOrder(
          customerId,
          orderBody(customerId, [{ itemId: item.itemId, quantity: 2, unitPrice: '12.50' }]),
        );
        expectStatus(answer, 201, 'POST /api/orders');
        return answer.body.orderId;
      },
    );

    // Assignment, 5 s at the depot, ~3 s of driving: well inside a minute, with no complete call.
    const delivered = await mapConcurrently(placed, orders, (orderId) =>
      eventually(
        async (): Promise<OrderView> => {
          const view = await readOrder(orderId);
          if (view?.status !== 'DELIVERED')
            throw new Error(`order ${orderId} is ${view?.status ?? 'unknown'}`);
          return view;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      ),
    );
    for (const view of delivered) {
      const types = view.timeline.map((entry) => entry.eventType);
      expect(types.filter((t) => t === 'delivery.completed')).toHaveLength(1);
      // The driver left the depot: an eta.updated with EN_ROUTE, from the position reports.
      expect(view.delivery).toMatchObject({ status: 'COMPLETED' });
      expect(types.filter((t) => t === 'eta.updated').length).toBeGreaterThanOrEqual(2);
      const delivery = await getDelivery(view.orderId);
      expect(delivery).toMatchObject({ status: 'COMPLETED' });
      // The last reported position is at the order's address: on it, or within the fleet's arrival
      // radius of 20 m (about 0.00018° of latitude, 0.00029° of longitude here).
      const { driverPosition } = delivery as unknown as { driverPosition: { lat: number; lng: number } };
      expect(Math.abs(driverPosition.lat - 51.52)).toBeLessThanOrEqual(0.0002);
      expect(Math.abs(driverPosition.lng - -0.1)).toBeLessThanOrEqual(0.0003);
    }
  });

  it('the driver API: POST /api/drivers/{id}/position on a delivery under way, next to the fleet; complete still works', async () => {
    const item = await createItem({ available: 2, unitPrice: '3.10' });
    drivers.push(...(await ensureFreeDrivers(1, 'e2e-fleet')));
    const customerId = uniqueId('e2e-fleet-far');
    // 530 km away: the fleet needs over 10 minutes, so the delivery is under way while we look.
    const answer = await postOrder(
      customerId,
      orderBody(
        customerId,
        [{ itemId: item.itemId, quantity: 1, unitPrice: '3.10' }],
        'EUR',
        FAR_FROM_DEPOT_ADDRESS,
      ),
    );
    expectStatus(answer, 201, 'POST /api/orders');
    const { orderId } = answer.body;
    const delivery = await eventually(
      async () => {
        const found = await getDelivery(orderId);
        if (!found?.driverId) throw new Error(`order ${orderId} has no driver yet`);
        return found;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const url = `${serviceUrl('delivery-service')}/api/drivers/${delivery.driverId}/position`;
    expect((await http('POST', url, { body: { lat: 54, lng: -2 } })).status).toBe(401);
    const customer = await http('POST', url, {
      token: await tokenFor(customerId),
      body: { lat: 54, lng: -2 },
    });
    expect(customer.status).toBe(403);
    const bad = await http<{ errors: { path: string }[] }>('POST', url, {
      token: await admin(),
      body: { lat: 'north' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.path).sort()).toEqual(['lat', 'lng']);

    const reported = await http<{ arrived: boolean; delivery: { orderId: string; status: string } }>(
      'POST',
      url,
      {
        token: await admin(),
        body: { lat: 54, lng: -2 },
      },
    );
    expectStatus(reported, 200, 'POST position');
    expect(reported.body).toMatchObject({ arrived: false, delivery: { orderId } });

    // The real complete API alongside the fleet: 200 once, then 409.
    const complete = `${serviceUrl('delivery-service')}/api/deliveries/${orderId}/complete`;
    expectStatus(await http('POST', complete, { token: await admin() }), 200, 'POST complete');
    expect((await http('POST', complete, { token: await admin() })).status).toBe(409);
    await eventually(
      async () => {
        const view = await readOrder(orderId);
        if (view?.status !== 'DELIVERED') throw new Error(`order ${orderId} is ${view?.status ?? 'unknown'}`);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });
});
