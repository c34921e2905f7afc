import { ConflictError, NotFoundError } from '@dispatch/platform';
import { eventually, metricValue, outboxOf } from '@dispatch/testkit';
import type { DeliveryConfig } from '../src/config';
import { haversineKm, type LatLng } from '../src/domain/geo';
import { ARRIVAL_RADIUS_KM } from '../src/domain/movement';
import { FleetSimulator } from '../src/fleet';
import { etaModelOf, fleetSettingsOf, positionSettingsOf } from '../src/service';
import { recordPositions } from '../src/store/active-deliveries';
import { completeDelivery } from '../src/use-cases/complete';
import { reportDriverPosition } from '../src/use-cases/report-position';
import {
  createDeliveryDatabase,
  createInstance,
  driverRow,
  FAR_AWAY,
  FLEET_TEST_ENV,
  freshOrderId,
  type Instance,
  insertDrivers,
  ManualClock,
  NEAR_DEPOT,
  orderCreated,
  orderCreatedTo,
  paymentAuthorized,
  TEST_ISSUER,
  type TestDatabase,
  testConfig,
  testLogger,
  useDeliveryInProcess,
} from './helpers';

const SECOND = 1_000;
async function positionOf(instance: Instance, orderId: string): Promise<LatLng | null> {
  const result = await instance.pool.query<{ driver_lat: number | null; driver_lng: number | null }>(
    'SELECT driver_lat, driver_lng FROM deliveries WHERE order_id = $1',
    [orderId],
  );
  const row = result.rows[0];
  return row && row.driver_lat !== null && row.driver_lng !== null
    ? { lat: row.driver_lat, lng: row.driver_lng }
    : null;
}

const typesOf = async (instance: Instance, orderId: string) =>
  (await outboxOf(instance.pool, orderId)).map((e) => e.eventType);

/**
 * The simulated fleet against a real database, two instances and a clock the test moves: drivers
 * move from the depot to the address, the position use-case publishes eta.updated only past the
 * threshold, arrival completes through the complete use-case, and no driver is driven twice.
 */
describe('simulated fleet (real PostgreSQL, two instances)', () => {
  let db: TestDatabase;
  let config: DeliveryConfig;

  beforeAll(async () => {
    db = await createDeliveryDatabase();
    config = testConfig(FLEET_TEST_ENV);
  });

  afterAll(async () => {
    await db?.drop();
  });

  function fleetOf(instance: Instance, clock: ManualClock): FleetSimulator {
    const settings = fleetSettingsOf(config);
    if (!settings) throw new Error('the fleet is off in this config');
    return new FleetSimulator({
      pool: instance.pool,
      clock,
      logger: testLogger,
      metrics: instance.metrics,
      settings,
    });
  }

  it('drives every assigned driver to the address and completes once, each driver moved by one instance per tick', async () => {
    const clock = new ManualClock(new Date('2026-03-01T09:00:00.000Z'));
    const a = createInstance(db, config, clock);
    const b = createInstance(db, config, clock);
    const [fleetA, fleetB] = [fleetOf(a, clock), fleetOf(b, clock)];
    const drivers = ['fleet-1', 'fleet-2', 'fleet-3'];
    await insertDrivers(
      a.pool,
      drivers.map((driverId) => ({ driverId })),
    );
    const orderIds = drivers.map(() => freshOrderId());
    for (const orderId of orderIds) {
      const created = orderCreated(orderId);
      await a.handle(created);
      await a.handle(paymentAuthorized(created));
    }

    const distances = new Map<string, number[]>(orderIds.map((id) => [id, []]));
    let ticks = 0;
    let active = orderIds.length;
    while (active > 0) {
      ticks += 1;
      if (ticks > 100) throw new Error('the fleet did not deliver within 100 ticks');
      clock.advance(500);
      const [ra, rb] = await Promise.all([fleetA.tick(), fleetB.tick()]);
      // Every active delivery is moved exactly once per tick, by one of the two instances.
      expect(ra.moved + rb.moved).toBe(active);
      active -= ra.completed + rb.completed;
      for (const orderId of orderIds) {
        const position = await positionOf(a, orderId);
        if (position) distances.get(orderId)?.push(haversineKm(position, NEAR_DEPOT));
      }
    }
    // 10 s handling + 2.52 km at 1500 km/h (6.05 s): arrival on about the 33rd half-second tick.
    expect(ticks).toBeGreaterThanOrEqual(30);
    expect(ticks).toBeLessThanOrEqual(36);

    for (const orderId of orderIds) {
      const types = await typesOf(a, orderId);
      expect(types.filter((t) => t === 'delivery.completed')).toHaveLength(1);
      // Assignment's eta.updated, the departure (EN_ROUTE) one; the position never drifts from the plan by 2 s.
      const etaEvents = (await outboxOf(a.pool, orderId)).filter((e) => e.eventType === 'eta.updated');
      expect(etaEvents.map((e) => (e.event.payload as { status: string }).status)).toEqual([
        'ASSIGNED',
        'EN_ROUTE',
      ]);
      // Never further from the address than before: the driver only moves towards it, and ends there.
      const seen = distances.get(orderId) ?? [];
      for (let i = 1; i < seen.length; i += 1) expect(seen[i]).toBeLessThanOrEqual((seen[i - 1] ?? 0) + 1e-9);
      expect(seen.at(-1)).toBeLessThan(0.001);
      // The completion names the delivery's previous event (the last eta.updated) as its cause.
      const events = (await outboxOf(a.pool, orderId)).map((e) => e.event);
      expect(events.at(-1)?.causationId).toBe(events.at(-2)?.eventId);
    }
    for (const driverId of drivers) expect((await driverRow(a.pool, driverId)).active_delivery_id).toBeNull();
    const completed =
      (await metricValue(a.registry, 'delivery_completed_total')) +
      (await metricValue(b.registry, 'delivery_completed_total'));
    expect(completed).toBe(3);
  });

  it('a manual complete racing the arrival: one completion, the loser gets 409 or finds nothing to do', async () => {
    const clock = new ManualClock(new Date('2026-03-02T09:00:00.000Z'));
    const a = createInstance(db, config, clock);
    const fleet = fleetOf(createInstance(db, config, clock), clock);
    // Only this test's driver is free (earlier tests' drivers are idle in the same database).
    await a.pool.query(`UPDATE drivers SET status = 'OFF_DUTY'`);
    await insertDrivers(a.pool, [{ driverId: 'race-1' }]);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    await a.handle(created);
    await a.handle(paymentAuthorized(created));
    // Up to just before the arrival.
    for (let i = 0; i < 31; i += 1) {
      clock.advance(500);
      expect((await fleet.tick()).completed).toBe(0);
    }
    clock.advance(2 * SECOND);
    const [manual, simulated] = await Promise.allSettled([
      completeDelivery(a.pool, clock, orderId),
      fleet.tick(),
    ]);
    const manualWon = manual.status === 'fulfilled';
    if (!manualWon) expect(manual.reason).toBeInstanceOf(ConflictError);
    expect(simulated.status).toBe('fulfilled');
    const fleetCompleted = simulated.status === 'fulfilled' ? simulated.value.completed : -1;
    expect(fleetCompleted).toBe(manualWon ? 0 : 1);
    expect((await typesOf(a, orderId)).filter((t) => t === 'delivery.completed')).toHaveLength(1);
    expect((await driverRow(a.pool, 'race-1')).active_delivery_id).toBeNull();
    // Afterwards both answer "nothing to do".
    await expect(completeDelivery(a.pool, clock, orderId)).rejects.toBeInstanceOf(ConflictError);
    expect((await fleet.tick()).moved).toBe(0);
  });

  it("a driver app's reports: the ETA follows the position, published only past the threshold", async () => {
    const clock = new ManualClock(new Date('2026-03-03T09:00:00.000Z'));
    const a = createInstance(db, config, clock);
    await a.pool.query(`UPDATE drivers SET status = 'OFF_DUTY'`);
    await insertDrivers(a.pool, [{ driverId: 'app-1' }, { driverId: 'app-idle', status: 'OFF_DUTY' }]);
    const orderId = freshOrderId();
    const created = orderCreatedTo(orderId, FAR_AWAY);
    await a.handle(created);
    await a.handle(paymentAuthorized(created));
    const settings = positionSettingsOf(config);
    const model = etaModelOf(config);
    const etaCount = async () => (await typesOf(a, orderId)).filter((t) => t === 'eta.updated').length;
    expect(await etaCount()).toBe(1);

    // Still at the depot 20 s after assignment, 10 s after the (compressed) handling ended: EN_ROUTE
    // by the clock, and the ETA from the position is 10 s later than the plan, past the threshold.
    clock.advance(20 * SECOND);
    const onPlan = await reportDriverPosition(a.pool, clock, settings, 'app-1', model.depot);
    expect(onPlan.etaPublished).toBe(true);
    expect(onPlan.delivery.status).toBe('EN_ROUTE');
    expect(await etaCount()).toBe(2);

    // Still at the depot a second later: the ETA moved 1 s, under the 2 s threshold.
    clock.advance(SECOND);
    expect((await reportDriverPosition(a.pool, clock, settings, 'app-1', model.depot)).etaPublished).toBe(
      false,
    );
    // 10 s later, still there: 11 s behind the last published ETA, published.
    clock.advance(10 * SECOND);
    const late = await reportDriverPosition(a.pool, clock, settings, 'app-1', model.depot);
    expect(late.etaPublished).toBe(true);
    expect(await etaCount()).toBe(3);
    expect(late.arrived).toBe(false);
    // Reporting from the address says arrived, but completing stays the driver's own call.
    const there = await reportDriverPosition(a.pool, clock, settings, 'app-1', FAR_AWAY);
    expect(there.arrived).toBe(true);
    expect(there.delivery.status).toBe('EN_ROUTE');
    expect(there.delivery.driverPosition).toEqual(FAR_AWAY);

    await expect(reportDriverPosition(a.pool, clock, settings, 'nobody', FAR_AWAY)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(reportDriverPosition(a.pool, clock, settings, 'app-idle', FAR_AWAY)).rejects.toBeInstanceOf(
      ConflictError,
    );
    await completeDelivery(a.pool, clock, orderId);
  });

  it('a position report updates the delivery in place (HOT), adding no index entries', async () => {
    const clock = new ManualClock(new Date('2026-03-04T09:00:00.000Z'));
    const a = createInstance(db, config, clock);
    await a.pool.query(`UPDATE drivers SET status = 'OFF_DUTY'`);
    await insertDrivers(a.pool, [{ driverId: 'hot-1' }]);
    const orderId = freshOrderId();
    const created = orderCreatedTo(orderId, FAR_AWAY);
    await a.handle(created);
    await a.handle(paymentAuthorized(created));
    const { rows } = await a.pool.query<{ delivery_id: string }>(
      'SELECT delivery_id FROM deliveries WHERE order_id = $1',
      [orderId],
    );
    const deliveryId = rows[0]?.delivery_id ?? '';

    const tx = await a.pool.connect();
    try {
      await tx.query('BEGIN');
      // This backend's counters not yet sent to the statistics (earlier statements' included).
      const updates = async () =>
        (
          await tx.query<{ n_tup_upd: string; n_tup_hot_upd: string }>(
            `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'deliveries'`,
          )
        ).rows[0];
      const before = await updates();
      for (const lat of [51.51, 51.52, 51.53]) {
        clock.advance(SECOND);
        await recordPositions(tx, [{ deliveryId, position: { lat, lng: -0.1 } }], clock.now());
      }
      const after = await updates();
      expect({
        updated: Number(after?.n_tup_upd) - Number(before?.n_tup_upd),
        inPlace: Number(after?.n_tup_hot_upd) - Number(before?.n_tup_hot_upd),
      }).toEqual({ updated: 3, inPlace: 3 });
      await tx.query('ROLLBACK');
    } finally {
      tx.release();
    }
    await completeDelivery(a.pool, clock, orderId);
  });
});

/**
 * The service as it runs with the fleet on: events in over real Kafka, and the order is delivered
 * without anyone calling complete; the position API answers as documented.
 */
describe('delivery-service with the fleet on (real PostgreSQL and Kafka)', () => {
  const delivery = useDeliveryInProcess(
    'it-fleet',
    {
      FLEET_SIMULATION: 'on',
      // 10 min handling → 1 s; 2.4 km at 15000 km/h → 0.6 s.
      FLEET_SPEED_UP: '600',
      FLEET_TICK_MS: '100',
      SCHEDULER_TICK_MS: '100',
    },
    1,
  );
  const { call, publish } = delivery;
  let adminToken: string;

  beforeAll(async () => {
    adminToken = await TEST_ISSUER.sign('admin-1', 'admin');
  });

  it('a paid order is delivered by the fleet with no complete call; complete afterwards is 409', async () => {
    expect(
      (
        await call('PUT', '/api/drivers/drv-f1', {
          token: adminToken,
          body: { name: 'Fay', status: 'AVAILABLE' },
        })
      ).status,
    ).toBe(201);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    await publish(created, paymentAuthorized(created));
    const delivered = await eventually(
      async () => {
        const res = await call('GET', `/api/deliveries/${orderId}`, { token: adminToken });
        expect(res.body?.status).toBe('COMPLETED');
        return res.body;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(delivered.driverId).toBe('drv-f1');
    // Arrived: the last tick's position is the address or within the arrival radius of it.
    expect(haversineKm(delivered.driverPosition, NEAR_DEPOT)).toBeLessThanOrEqual(ARRIVAL_RADIUS_KM);
    const complete = await call('POST', `/api/deliveries/${orderId}/complete`, { token: adminToken });
    expect(complete.status).toBe(409);
    const types = (await outboxOf(delivery.db.newPool(2), orderId)).map((e) => e.eventType);
    expect(types.filter((t) => t === 'delivery.completed')).toHaveLength(1);
    expect(types[0]).toBe('delivery.assigned');
    expect(
      (await call('GET', '/api/drivers/drv-f1', { token: adminToken })).body.activeDeliveryId,
    ).toBeNull();
  });

  it('POST /api/drivers/{id}/position: 401 without a token, 400 naming bad fields, 404, 409 when idle, 200 on a delivery', async () => {
    const path = '/api/drivers/drv-f2/position';
    expect((await call('POST', path, { body: { lat: 51.5, lng: -0.1 } })).status).toBe(401);
    const bad = await call('POST', path, { token: adminToken, body: { lat: 91, lng: 'west' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['lat', 'lng']);
    expect((await call('POST', path, { token: adminToken, body: { lat: 51.5, lng: -0.1 } })).status).toBe(
      404,
    );
    await call('PUT', '/api/drivers/drv-f2', {
      token: adminToken,
      body: { name: 'Gus', status: 'AVAILABLE' },
    });
    const idle = await call('POST', path, { token: adminToken, body: { lat: 51.5, lng: -0.1 } });
    expect(idle.status).toBe(409);
    expect(idle.body.type).toContain('driver-not-on-delivery');

    // A far-away order keeps its driver busy for minutes even at 600×.
    await call('PUT', '/api/drivers/drv-f1', {
      token: adminToken,
      body: { name: 'Fay', status: 'OFF_DUTY' },
    });
    const orderId = freshOrderId();
    const created = orderCreatedTo(orderId, FAR_AWAY);
    await publish(created, paymentAuthorized(created));
    await eventually(async () => {
      const res = await call('GET', `/api/deliveries/${orderId}`, { token: adminToken });
      expect(res.body?.driverId).toBe('drv-f2');
    });
    const reported = await call('POST', path, { token: adminToken, body: { lat: 52.2, lng: -0.9 } });
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({ driverId: 'drv-f2', arrived: false, delivery: { orderId } });
    expect(reported.body.delivery.driverPosition).toMatchObject({ lat: 52.2, lng: -0.9 });
    expect((await call('POST', `/api/deliveries/${orderId}/complete`, { token: adminToken })).status).toBe(
      200,
    );
  });
});
