import type { PlatformMetrics } from '@dispatch/platform';
import type { Pool } from 'pg';
import { Counter, Gauge } from 'prom-client';
import { countOpenDeliveries } from './store/deliveries';
import { countAssignableDrivers } from './store/drivers';

/**
 * delivery-service's own metrics, on the service's registry. Totals only: no per-driver or
 * per-order labels. Counters count committed effects (incremented after the transaction commits).
 * The gauges are read from the database at scrape time, so every instance reports the same
 * service-wide value: aggregate them with max(), not sum().
 */
export interface DeliveryMetrics {
  /** outcome: assigned | failed (NO_DRIVER_AVAILABLE) */
  assignments: Counter<'outcome'>;
  etaUpdates: Counter;
  completed: Counter;
  /** Driver positions recorded, by who reported them (the driver API or the simulated fleet). */
  positions: Counter<'source'>;
  /** order.cancelled that arrived after a driver was assigned, ignored. */
  lateCancellations: Counter;
  /** From payment.authorized's occurredAt to the commit of delivery.assigned / delivery.failed. */
  stageLatency: PlatformMetrics['stageLatency'];
}

export function createDeliveryMetrics(platform: PlatformMetrics, pool: Pool): DeliveryMetrics {
  const registers = [platform.registry];
  new Gauge({
    name: 'delivery_active',
    help: 'Deliveries with a driver that are not completed yet (ASSIGNED or EN_ROUTE).',
    registers,
    async collect() {
      const open = await readOrUndefined(() => countOpenDeliveries(pool));
      if (open) this.set(open.active);
    },
  });
  new Gauge({
    name: 'delivery_pending',
    help: 'Paid orders waiting for a driver (PENDING) or for their order.created (AWAITING_ORDER).',
    labelNames: ['state'],
    registers,
    async collect() {
      const open = await readOrUndefined(() => countOpenDeliveries(pool));
      if (!open) return;
      this.set({ state: 'PENDING' }, open.pending);
      this.set({ state: 'AWAITING_ORDER' }, open.awaitingOrder);
    },
  });
  new Gauge({
    name: 'drivers_available',
    help: 'Drivers who could take a delivery now (AVAILABLE and not on an active delivery).',
    registers,
    async collect() {
      const n = await readOrUndefined(() => countAssignableDrivers(pool));
      if (n !== undefined) this.set(n);
    },
  });
  return {
    assignments: new Counter({
      name: 'delivery_assignments_total',
      help: 'Driver assignment outcomes: assigned, or failed with NO_DRIVER_AVAILABLE after the wait.',
      labelNames: ['outcome'],
      registers,
    }),
    etaUpdates: new Counter({
      name: 'delivery_eta_updates_total',
      help: 'eta.updated events emitted (at assignment, by the ETA refresh and by position reports).',
      registers,
    }),
    completed: new Counter({
      name: 'delivery_completed_total',
      help: 'Deliveries completed.',
      registers,
    }),
    positions: new Counter({
      name: 'delivery_driver_positions_total',
      help: 'Driver positions recorded on active deliveries, by source: api (POST /api/drivers/{id}/position) or fleet (the simulated fleet).',
      labelNames: ['source'],
      registers,
    }),
    lateCancellations: new Counter({
      name: 'delivery_late_cancellations_total',
      help: 'order.cancelled events that arrived after a driver was assigned (the delivery is called off) or after completion (nothing to call off).',
      registers,
    }),
    stageLatency: platform.stageLatency,
  };
}

/** A failed read leaves the gauge at its last value rather than failing the whole scrape. */
async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}
