import type { EventEnvelope } from '@dispatch/contracts';
import { enqueue, withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import type { Clock } from '../clock';
import { deliveryPhase, type EtaModel, estimateDeliveryTime, shouldPublishEta } from '../domain/eta';
import { etaUpdatedEvent } from '../domain/events';
import { lockDueEtaRefresh, recordEtaCheck } from '../store/active-deliveries';

export interface EtaRefreshSettings {
  etaModel: EtaModel;
  /** Each active delivery's ETA is recomputed once this long after its previous computation. */
  refreshIntervalMs: number;
  /** eta.updated goes out only when the ETA moved by more than this since the last one published. */
  changeThresholdMs: number;
  batchSize: number;
}

export interface EtaRefreshResult {
  checked: number;
  published: number;
}

/**
 * Recomputes the ETA of every active delivery that is due, in batches of one transaction each:
 * lock the batch (FOR UPDATE SKIP LOCKED, so instances split the work and never refresh the same
 * delivery twice), compute, and write eta_checked_at plus, when the ETA moved past the threshold or
 * the phase changed, the new ETA and its eta.updated in the outbox.
 */
export async function refreshDueEtas(
  pool: Pool,
  clock: Clock,
  settings: EtaRefreshSettings,
  /** Called after each batch commits (metrics count committed effects, even if a later batch fails). */
  onCommitted: (batch: EtaRefreshResult) => void = () => {},
): Promise<EtaRefreshResult> {
  const total: EtaRefreshResult = { checked: 0, published: 0 };
  // The batches walk the active deliveries in driver order, each starting after the last one's.
  let afterDriverId = '';
  for (;;) {
    const batch = await withTransaction(pool, async (tx) => {
      const now = clock.now();
      const due = await lockDueEtaRefresh(
        tx,
        new Date(now.getTime() - settings.refreshIntervalMs),
        afterDriverId,
        settings.batchSize,
      );
      const events: EventEnvelope<'eta.updated'>[] = [];
      for (const delivery of due) {
        const { assignedAt, destination, estimatedDeliveryTime, driverId, driverName, status } = delivery;
        if (!assignedAt || !destination || !estimatedDeliveryTime || !driverId || !driverName) {
          throw new Error(`active delivery ${delivery.deliveryId} lacks its assignment data`);
        }
        if (status !== 'ASSIGNED' && status !== 'EN_ROUTE') continue;
        const nextEta = estimateDeliveryTime({ now, assignedAt, destination }, settings.etaModel);
        const nextPhase = deliveryPhase(now, assignedAt, settings.etaModel);
        const publish = shouldPublishEta({
          lastPublishedEta: estimatedDeliveryTime,
          nextEta,
          lastPhase: status,
          nextPhase,
          thresholdMs: settings.changeThresholdMs,
        });
        if (!publish) {
          await recordEtaCheck(tx, delivery.deliveryId, now);
          continue;
        }
        const event = etaUpdatedEvent(
          {
            orderId: delivery.orderId,
            correlationId: delivery.correlationId,
            causationId: delivery.lastEventId,
          },
          {
            deliveryId: delivery.deliveryId,
            driverId,
            driverName,
            phase: nextPhase,
            estimatedDeliveryTime: nextEta,
          },
          now,
        );
        await recordEtaCheck(tx, delivery.deliveryId, now, {
          estimatedDeliveryTime: nextEta,
          phase: nextPhase,
          lastEventId: event.eventId,
        });
        events.push(event);
      }
      await enqueue(tx, events);
      return { checked: due.length, published: events.length, lastDriverId: due.at(-1)?.driverId ?? null };
    });
    onCommitted({ checked: batch.checked, published: batch.published });
    total.checked += batch.checked;
    total.published += batch.published;
    if (batch.checked < settings.batchSize || batch.lastDriverId === null) return total;
    afterDriverId = batch.lastDriverId;
  }
}
