import { readsDuring } from '@dispatch/testkit';
import { FleetSimulator } from '../src/fleet';
import { etaModelOf, fleetSettingsOf } from '../src/service';
import { completeDelivery } from '../src/use-cases/complete';
import { refreshDueEtas } from '../src/use-cases/refresh-etas';
import {
  createDeliveryDatabase,
  createInstance,
  FAR_AWAY,
  FLEET_TEST_ENV,
  freshOrderId,
  insertDrivers,
  ManualClock,
  orderCreatedTo,
  paymentAuthorized,
  testConfig,
  testLogger,
} from './helpers';

/**
 * What the work on deliveries under way reads of the deliveries table (real PostgreSQL): the ETA
 * refresh's and the simulator's batches, and completions. See docs/delivery-service.md, "Active
 * deliveries have one index".
 */
describe('reads of deliveries under way (real PostgreSQL)', () => {
  it('an ETA refresh and a tick read each active delivery about once, however many batches; completions go by key', async () => {
    // A database of its own, shaped like one that has run a while: many finished deliveries, and
    // statistics taken while none was under way (a quiet hour's ANALYZE). The planner then thinks the
    // partial indexes of active deliveries are empty and cheapest to scan whole: the statements must
    // not leave it that choice.
    const own = await createDeliveryDatabase();
    const fleetPool = own.newPool(1);
    try {
      const smallBatches = testConfig({ ...FLEET_TEST_ENV, SCHEDULER_BATCH_SIZE: '5' });
      const clock = new ManualClock(new Date('2026-03-05T09:00:00.000Z'));
      const a = createInstance(own, smallBatches, clock);
      await insertDrivers(a.pool, [{ driverId: 'finished-driver', status: 'OFF_DUTY' }]);
      await a.pool.query(
        `INSERT INTO orders (order_id, updated_at) SELECT 'finished-' || g, now() FROM generate_series(1, 2000) g`,
      );
      await a.pool.query(
        `INSERT INTO deliveries (delivery_id, order_id, status, correlation_id, payment_event_id,
                                 payment_authorized_at, last_event_id, driver_id, driver_name, assigned_at,
                                 estimated_delivery_time, eta_checked_at, completed_at, created_at, updated_at)
         SELECT gen_random_uuid(), 'finished-' || g, 'COMPLETED', 'c', gen_random_uuid(), now(), gen_random_uuid(),
                'finished-driver', 'F', now(), now(), now(), now(), now(), now()
           FROM generate_series(1, 2000) g`,
      );
      await a.pool.query('ANALYZE deliveries');
      const active = 30;
      await insertDrivers(
        a.pool,
        Array.from({ length: active }, (_, i) => ({ driverId: `keyset-${String(i).padStart(2, '0')}` })),
      );
      const orderIds = Array.from({ length: active }, () => freshOrderId());
      for (const orderId of orderIds) {
        const created = orderCreatedTo(orderId, FAR_AWAY);
        await a.handle(created);
        await a.handle(paymentAuthorized(created));
      }

      const settings = fleetSettingsOf(smallBatches);
      if (!settings) throw new Error('the fleet is off in this config');
      const etaSettings = {
        etaModel: etaModelOf(smallBatches),
        refreshIntervalMs: smallBatches.ETA_REFRESH_MS,
        changeThresholdMs: smallBatches.ETA_CHANGE_THRESHOLD_MS,
      };
      const fleet = new FleetSimulator({
        pool: fleetPool,
        clock,
        logger: testLogger,
        metrics: a.metrics,
        settings,
      });
      // What each step reads of deliveries, through the fleet's one connection.
      const during = (work: () => Promise<unknown>) => readsDuring(fleetPool, 'deliveries', work);
      const keysAndGuard = ['deliveries_pkey', 'deliveries_order_id_key', 'deliveries_one_active_per_driver'];

      // The ETA refresh (for deliveries nobody reports a position for): all thirty are due.
      clock.advance(smallBatches.ETA_REFRESH_MS);
      let refreshed = 0;
      const refreshReads = await during(async () => {
        refreshed = (await refreshDueEtas(fleetPool, clock, { ...etaSettings, batchSize: 5 })).checked;
      });
      expect(refreshed).toBe(active);
      expect(keysAndGuard).toEqual(expect.arrayContaining(Object.keys(refreshReads)));
      // Seven batches of five, read one after the other: 30 entries, not 30 per batch.
      expect(refreshReads.deliveries_one_active_per_driver).toBeGreaterThanOrEqual(active);
      expect(refreshReads.deliveries_one_active_per_driver).toBeLessThanOrEqual(active + 7);

      // A tick of the fleet: the same, plus once more the entries the refresh's phase change
      // (ASSIGNED → EN_ROUTE, a new entry in the index) left behind until VACUUM.
      clock.advance(500);
      let moved = 0;
      const tickReads = await during(async () => {
        moved = (await fleet.tick()).moved;
      });
      expect(moved).toBe(active);
      expect(keysAndGuard).toEqual(expect.arrayContaining(Object.keys(tickReads)));
      expect(tickReads.deliveries_one_active_per_driver).toBeGreaterThanOrEqual(active);
      expect(tickReads.deliveries_one_active_per_driver).toBeLessThanOrEqual(2 * active + 7);

      // Completing them (as POST …/complete does) finds each by its order and updates it by its key.
      const completionReads = await during(async () => {
        for (const orderId of orderIds) await completeDelivery(fleetPool, clock, orderId);
      });
      expect(Object.keys(completionReads).sort()).toEqual(['deliveries_order_id_key', 'deliveries_pkey']);
    } finally {
      await fleetPool.end();
      await own.drop();
    }
  });
});
