import { eventually, outboxOf } from '@dispatch/testkit';
import { freshOrderId, orderCreated, paymentAuthorized, TEST_ISSUER, useDeliveryInProcess } from './helpers';

/**
 * The service as it runs: started in-process with startService on port 0, a fresh database, a test
 * token issuer (the service gets its public JWKS only), and Kafka topics of its own (so it never reads other tests' orders from the shared
 * raw topics). Events go in through real Kafka; effects are read over HTTP and from the outbox.
 */
describe('delivery-service in-process (real PostgreSQL and Kafka)', () => {
  const delivery = useDeliveryInProcess(
    'it-delivery',
    { DRIVER_WAIT_MS: '1500', ASSIGN_RETRY_MS: '200', SCHEDULER_TICK_MS: '100' },
    3,
  );
  const { call, publish } = delivery;
  let adminToken: string;
  let customerToken: string;

  beforeAll(async () => {
    adminToken = await TEST_ISSUER.sign('admin-1', 'admin');
    customerToken = await TEST_ISSUER.sign('customer-1', 'customer');
  });

  const putDriver = (driverId: string, body: unknown, token = adminToken) =>
    call('PUT', `/api/drivers/${driverId}`, { token, body });

  /** Sets every driver's duty status (so each test decides who is free). */
  const setAllDrivers = async (status: 'AVAILABLE' | 'OFF_DUTY') => {
    const page = await call('GET', '/api/drivers?limit=100', { token: adminToken });
    for (const d of page.body.items as { driverId: string; name: string }[]) {
      expect((await putDriver(d.driverId, { name: d.name, status })).status).toBe(200);
    }
  };

  describe('driver endpoints', () => {
    it('need a valid bearer token (401) with the admin role (403)', async () => {
      const body = { name: 'Nobody', status: 'AVAILABLE' };
      const none = await putDriver('drv-auth', body, '');
      expect(none.status).toBe(401);
      expect(none.headers.get('content-type')).toContain('application/problem+json');
      expect((await putDriver('drv-auth', body, 'not.a.jwt')).status).toBe(401);
      expect((await putDriver('drv-auth', body, customerToken)).status).toBe(403);
      expect((await call('GET', '/api/drivers', { token: customerToken })).status).toBe(403);
      expect((await call('GET', '/api/drivers')).status).toBe(401);
      expect((await call('GET', '/api/drivers/drv-auth', { token: adminToken })).status).toBe(404);
    });

    it('reject a bad body or id with 400 naming every bad field', async () => {
      const bad = await putDriver('drv-x', { name: '', status: 'BUSY' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'status']);
      const badId = await putDriver('bad%20id', { name: 'X', status: 'AVAILABLE' });
      expect(badId.status).toBe(400);
      expect(badId.body.errors[0].path).toBe('driverId');
      expect((await call('GET', '/api/drivers?limit=0', { token: adminToken })).status).toBe(400);
    });

    it('PUT creates (201) then replaces (200); GET pages by id', async () => {
      const created = await putDriver('drv-p1', { name: ' Pat One ', status: 'AVAILABLE' });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe('/api/drivers/drv-p1');
      expect(created.body).toMatchObject({
        driverId: 'drv-p1',
        name: 'Pat One',
        status: 'AVAILABLE',
        activeDeliveryId: null,
        assignable: true,
      });
      const replaced = await putDriver('drv-p1', { name: 'Pat One', status: 'OFF_DUTY' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ status: 'OFF_DUTY', assignable: false });
      expect((await putDriver('drv-p1', { name: 'Pat One', status: 'OFF_DUTY' })).status).toBe(200);
      await putDriver('drv-p2', { name: 'Pat Two', status: 'AVAILABLE' });
      await putDriver('drv-p3', { name: 'Pat Three', status: 'AVAILABLE' });

      const first = await call('GET', '/api/drivers?limit=2', { token: adminToken });
      expect(first.status).toBe(200);
      expect(first.body.items.map((d: { driverId: string }) => d.driverId)).toEqual(['drv-p1', 'drv-p2']);
      expect(first.body.nextCursor).toBe('drv-p2');
      const second = await call('GET', `/api/drivers?limit=2&cursor=${first.body.nextCursor}`, {
        token: adminToken,
      });
      expect(second.body.items.map((d: { driverId: string }) => d.driverId)).toEqual(['drv-p3']);
      expect(second.body.nextCursor).toBeNull();
      expect((await call('GET', '/api/drivers/drv-p2', { token: adminToken })).body.name).toBe('Pat Two');
    });
  });

  it('serves its OpenAPI document', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths).sort()).toEqual([
      '/api/deliveries/{orderId}',
      '/api/deliveries/{orderId}/complete',
      '/api/drivers',
      '/api/drivers/{driverId}',
      '/api/drivers/{driverId}/position',
    ]);
    expect(doc.body.paths['/api/drivers/{driverId}'].put.requestBody).toBeDefined();
  });

  it('events in over Kafka → assigned; complete → delivery.completed, driver free again; again → 409', async () => {
    await setAllDrivers('OFF_DUTY');
    expect((await putDriver('drv-k1', { name: 'Kit', status: 'AVAILABLE' })).status).toBe(201);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    await publish(created, paymentAuthorized(created));

    const assigned = await eventually(async () => {
      const res = await call('GET', `/api/deliveries/${orderId}`, { token: adminToken });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ASSIGNED');
      return res.body;
    });
    expect(assigned).toMatchObject({ orderId, driverId: 'drv-k1', driverName: 'Kit' });
    expect(Date.parse(assigned.estimatedDeliveryTime)).toBeGreaterThan(Date.now());
    const busy = await call('GET', '/api/drivers/drv-k1', { token: adminToken });
    expect(busy.body).toMatchObject({ activeDeliveryId: assigned.deliveryId, assignable: false });

    // OFF_DUTY while on a delivery: the driver keeps it, and gets nothing new after it.
    expect((await putDriver('drv-k1', { name: 'Kit', status: 'OFF_DUTY' })).body.activeDeliveryId).toBe(
      assigned.deliveryId,
    );

    const completed = await call('POST', `/api/deliveries/${orderId}/complete`, { token: adminToken });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ status: 'COMPLETED', driverId: 'drv-k1' });
    const outbox = await outboxOf(delivery.service.ctx.pool!, orderId);
    expect(outbox.map((e) => e.eventType)).toEqual([
      'delivery.assigned',
      'eta.updated',
      'delivery.completed',
    ]);
    expect(outbox[2]?.event.payload).toMatchObject({
      orderId,
      deliveryId: assigned.deliveryId,
      driverId: 'drv-k1',
      driverName: 'Kit',
      status: 'COMPLETED',
    });
    const freed = await call('GET', '/api/drivers/drv-k1', { token: adminToken });
    expect(freed.body).toMatchObject({ status: 'OFF_DUTY', activeDeliveryId: null });
    expect((await putDriver('drv-k1', { name: 'Kit', status: 'AVAILABLE' })).body.assignable).toBe(true);

    const again = await call('POST', `/api/deliveries/${orderId}/complete`, { token: adminToken });
    expect(again.status).toBe(409);
    expect(again.body.type).toContain('delivery-not-active');
    expect(
      (await call('POST', `/api/deliveries/${freshOrderId()}/complete`, { token: adminToken })).status,
    ).toBe(404);
    expect((await call('POST', `/api/deliveries/${orderId}/complete`, { token: customerToken })).status).toBe(
      403,
    );
  });

  it('with every driver OFF_DUTY, the scheduler fails the delivery with NO_DRIVER_AVAILABLE after DRIVER_WAIT_MS', async () => {
    await setAllDrivers('OFF_DUTY');
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    await publish(created, paymentAuthorized(created));

    const pending = await eventually(async () => {
      const res = await call('GET', `/api/deliveries/${orderId}`, { token: adminToken });
      expect(res.status).toBe(200);
      return res.body;
    });
    // Waiting for a driver is not active: it cannot be completed.
    if (pending.status === 'PENDING') {
      expect((await call('POST', `/api/deliveries/${orderId}/complete`, { token: adminToken })).status).toBe(
        409,
      );
    }
    const failed = await eventually(
      async () => {
        const res = await call('GET', `/api/deliveries/${orderId}`, { token: adminToken });
        expect(res.body.status).toBe('FAILED');
        return res.body;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(failed).toMatchObject({ failureReason: 'NO_DRIVER_AVAILABLE', driverId: null });
    expect(Date.parse(failed.updatedAt) - Date.parse(failed.createdAt)).toBeGreaterThanOrEqual(1500);
    const outbox = await outboxOf(delivery.service.ctx.pool!, orderId);
    expect(outbox.map((e) => e.eventType)).toEqual(['delivery.failed']);
    expect(outbox[0]?.event.payload).toMatchObject({ status: 'FAILED', reason: 'NO_DRIVER_AVAILABLE' });
  });

  it('exposes its metrics', async () => {
    const res = await fetch(`${delivery.service.base}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/^delivery_assignments_total\{outcome="assigned",service="delivery-service"\} 1$/m);
    expect(text).toMatch(/^delivery_assignments_total\{outcome="failed",service="delivery-service"\} 1$/m);
    expect(text).toMatch(/^delivery_completed_total\{service="delivery-service"\} 1$/m);
    expect(text).toMatch(/^delivery_eta_updates_total\{service="delivery-service"\} 1$/m);
    expect(text).toMatch(/^delivery_active\{service="delivery-service"\} 0$/m);
    expect(text).toMatch(/^drivers_available\{service="delivery-service"\} \d+$/m);
  });
});
