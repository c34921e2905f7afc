import { metricValue, outboxOf } from '@dispatch/testkit';
import type { DeliveryConfig } from '../src/config';
import {
  createDeliveryDatabase,
  createInstance,
  deliveryOf,
  freshOrderId,
  insertDrivers,
  ManualClock,
  orderCreated,
  paymentAuthorized,
  type TestDatabase,
  testConfig,
} from './helpers';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/**
 * The scheduler's ETA refresh against a real database, with a clock the test moves: eta.updated
 * goes out only when the ETA moved by more than the threshold (or the driver left the depot).
 */
describe('ETA refresh (real PostgreSQL)', () => {
  let db: TestDatabase;
  let config: DeliveryConfig;

  beforeAll(async () => {
    db = await createDeliveryDatabase();
    config = testConfig({
      HANDLING_TIME_MS: String(10 * MINUTE),
      ETA_MIN_REMAINING_MS: String(5 * MINUTE),
      DRIVER_SPEED_KMH: '25',
      ETA_REFRESH_MS: String(30 * SECOND),
      ETA_CHANGE_THRESHOLD_MS: String(MINUTE),
    });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('emits eta.updated only when the ETA moved past the threshold or the phase changed, once across instances', async () => {
    const clock = new ManualClock(new Date('2026-03-01T09:00:00.000Z'));
    const a = createInstance(db, config, clock);
    const b = createInstance(db, config, clock);
    await insertDrivers(a.pool, [{ driverId: 'eta-driver', name: 'Eta Driver' }]);
    const orderId = freshOrderId();
    const created = orderCreated(orderId);
    await a.handle(created);
    await a.handle(paymentAuthorized(created));
    const etaUpdates = async () =>
      (await outboxOf(a.pool, orderId))
        .filter((e) => e.eventType === 'eta.updated')
        .map((e) => e.event.payload as { status: string; estimatedDeliveryTime: string });
    const initial = await etaUpdates();
    expect(initial).toHaveLength(1);
    const plannedEta = new Date(initial[0]?.estimatedDeliveryTime ?? '').getTime();
    // 10 min handling + ~2.4 km at 25 km/h.
    expect(plannedEta - clock.now().getTime()).toBeGreaterThan(15 * MINUTE);
    expect(plannedEta - clock.now().getTime()).toBeLessThan(17 * MINUTE);
    const tick = async () => {
      const [ra, rb] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      return ra.eta.published + rb.eta.published;
    };

    // Not due yet (refreshed less than ETA_REFRESH_MS ago): nothing is even recomputed.
    clock.advance(10 * SECOND);
    expect(await tick()).toBe(0);

    // Due, but the plan holds and the driver is still at the depot: recomputed, not published.
    clock.advance(30 * SECOND);
    expect(await tick()).toBe(0);
    expect(await etaUpdates()).toHaveLength(1);

    // Handling done: the driver is EN_ROUTE; the ETA is unchanged but readers learn the phase.
    clock.advance(10 * MINUTE);
    expect(await tick()).toBe(1);
    expect((await etaUpdates())[1]).toEqual({ ...initial[0], status: 'EN_ROUTE' });
    expect((await deliveryOf(a.pool, orderId))?.status).toBe('EN_ROUTE');

    // En route as planned: nothing moves, nothing is published.
    clock.advance(MINUTE);
    expect(await tick()).toBe(0);

    // The planned arrival has passed: the ETA slides to now + 5 min, a move of well over a minute.
    clock.advance(20 * MINUTE);
    expect(await tick()).toBe(1);
    const slid = (await etaUpdates())[2];
    expect(slid?.status).toBe('EN_ROUTE');
    expect(new Date(slid?.estimatedDeliveryTime ?? '').getTime()).toBe(clock.now().getTime() + 5 * MINUTE);

    // 40 s later the ETA moved 40 s: under the threshold, not published.
    clock.advance(40 * SECOND);
    expect(await tick()).toBe(0);

    // Another 40 s: 80 s from the last published ETA, so it goes out.
    clock.advance(40 * SECOND);
    expect(await tick()).toBe(1);

    const updates = await etaUpdates();
    expect(updates).toHaveLength(4);
    const delivery = await deliveryOf(a.pool, orderId);
    expect(delivery?.estimated_delivery_time?.toISOString()).toBe(updates[3]?.estimatedDeliveryTime);
    // Every scheduled eta.updated names the previous event of the delivery as its cause.
    const events = (await outboxOf(a.pool, orderId)).map((e) => e.event);
    for (let i = 2; i < events.length; i += 1) expect(events[i]?.causationId).toBe(events[i - 1]?.eventId);
    const counted =
      (await metricValue(a.registry, 'delivery_eta_updates_total')) +
      (await metricValue(b.registry, 'delivery_eta_updates_total'));
    expect(counted).toBe(4);
  });
});
