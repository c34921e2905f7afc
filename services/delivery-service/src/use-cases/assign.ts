import type { AnyEvent } from '@dispatch/contracts';
import { enqueue, observeStageLatency, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import type { Clock } from '../clock';
import { decideAssignment } from '../domain/assignment';
import { type EtaModel, estimateDeliveryTime } from '../domain/eta';
import { assignedEvents, deliveryFailedEvent } from '../domain/events';
import type { DeliveryMetrics } from '../metrics';
import {
  type Delivery,
  lockDuePending,
  markAssigned,
  markFailed,
  postponeAttempt,
} from '../store/deliveries';
import { lockAssignableDriver, markDriverBusy } from '../store/drivers';

export interface AssignmentSettings {
  etaModel: EtaModel;
  /** How long a paid order may wait for a free driver before delivery.failed NO_DRIVER_AVAILABLE. */
  driverWaitMs: number;
  /** Pause between assignment attempts of one PENDING delivery (never past its deadline). */
  retryIntervalMs: number;
}

/**
 * Where an attempt's events go, in the caller's transaction: a handler's `step.emit` (the batch's one
 * outbox insert) or, in the scheduler, straight into the outbox with enqueue.
 */
export type EmitEvents = (...events: AnyEvent[]) => void | Promise<void>;

export type AttemptOutcome =
  | { kind: 'assigned'; deliveryId: string; driverId: string; paymentAuthorizedAt: Date }
  | { kind: 'waiting'; deliveryId: string; retryAt: Date }
  | { kind: 'failed'; deliveryId: string; paymentAuthorizedAt: Date };

/**
 * One assignment attempt for a PENDING delivery whose row the transaction `tx` holds: take the
 * longest-idle free driver (locked, SKIP LOCKED), compute the ETA, and write the delivery and the
 * driver in this same transaction and `emit` the outgoing events; or postpone; or fail it at its
 * deadline. `driversExhausted` skips the driver lookup when this transaction already found none.
 *
 * Several attempts in one transaction (a consumer batch, a scheduler batch) never give one driver
 * twice: the transaction sees its own markDriverBusy, so the driver no longer qualifies.
 */
export async function attemptAssignment(
  tx: ClientBase,
  delivery: Delivery,
  now: Date,
  settings: AssignmentSettings,
  emit: EmitEvents,
  opts: { driversExhausted?: boolean } = {},
): Promise<AttemptOutcome> {
  if (delivery.status !== 'PENDING' || !delivery.assignDeadline || !delivery.destination) {
    throw new Error(`delivery ${delivery.deliveryId} is ${delivery.status}, not PENDING with an address`);
  }
  const driver = opts.driversExhausted ? undefined : await lockAssignableDriver(tx);
  const decision = decideAssignment({
    now,
    deadline: delivery.assignDeadline,
    driver,
    retryIntervalMs: settings.retryIntervalMs,
  });
  const origin = {
    orderId: delivery.orderId,
    correlationId: delivery.correlationId,
    causationId: delivery.paymentEventId,
  };

  switch (decision.kind) {
    case 'assign': {
      const estimatedDeliveryTime = estimateDeliveryTime(
        { now, assignedAt: now, destination: delivery.destination },
        settings.etaModel,
      );
      const assigned = {
        deliveryId: delivery.deliveryId,
        driverId: decision.driver.driverId,
        driverName: decision.driver.name,
        estimatedDeliveryTime,
      };
      const events = assignedEvents(origin, assigned, now);
      await markDriverBusy(tx, decision.driver.driverId, delivery.deliveryId, now);
      await markAssigned(tx, delivery.deliveryId, { ...assigned, lastEventId: events[1].eventId }, now);
      await emit(...events);
      return {
        kind: 'assigned',
        deliveryId: delivery.deliveryId,
        driverId: decision.driver.driverId,
        paymentAuthorizedAt: delivery.paymentAuthorizedAt,
      };
    }
    case 'wait':
      await postponeAttempt(tx, delivery.deliveryId, decision.retryAt, now);
      return { kind: 'waiting', deliveryId: delivery.deliveryId, retryAt: decision.retryAt };
    case 'fail': {
      const failed = deliveryFailedEvent(
        origin,
        { deliveryId: delivery.deliveryId, reason: decision.reason },
        now,
      );
      await markFailed(tx, delivery.deliveryId, decision.reason, failed.eventId, now);
      await emit(failed);
      return {
        kind: 'failed',
        deliveryId: delivery.deliveryId,
        paymentAuthorizedAt: delivery.paymentAuthorizedAt,
      };
    }
  }
}

/** Counts a committed attempt (call after the transaction committed). Latency is wall-clock time. */
export function recordAttempt(metrics: DeliveryMetrics, outcome: AttemptOutcome): void {
  if (outcome.kind === 'waiting') return;
  metrics.assignments.inc({ outcome: outcome.kind });
  if (outcome.kind === 'assigned') metrics.etaUpdates.inc();
  observeStageLatency(
    metrics.stageLatency,
    outcome.kind === 'assigned' ? 'delivery.assigned' : 'delivery.failed',
    outcome.paymentAuthorizedAt,
  );
}

/**
 * The scheduler's assignment pass: every PENDING delivery whose next attempt is due gets one attempt,
 * oldest first, in batches of one transaction each. Rows another instance holds are skipped (it is
 * working on them). Once a batch finds no free driver, its remaining deliveries only wait or fail.
 */
export async function assignDuePending(
  pool: Pool,
  clock: Clock,
  settings: AssignmentSettings,
  batchSize: number,
  /** Called after each batch commits (metrics count committed effects, even if a later batch fails). */
  onCommitted: (outcomes: AttemptOutcome[]) => void = () => {},
): Promise<AttemptOutcome[]> {
  const outcomes: AttemptOutcome[] = [];
  for (;;) {
    const batch = await withTransaction(pool, async (tx) => {
      const now = clock.now();
      const due = await lockDuePending(tx, now, batchSize);
      const results: AttemptOutcome[] = [];
      let driversExhausted = false;
      const emit: EmitEvents = async (...events) => void (await enqueue(tx, events));
      for (const delivery of due) {
        const outcome = await attemptAssignment(tx, delivery, now, settings, emit, { driversExhausted });
        if (outcome.kind !== 'assigned') driversExhausted = true;
        results.push(outcome);
      }
      return results;
    });
    onCommitted(batch);
    outcomes.push(...batch);
    if (batch.length < batchSize) return outcomes;
  }
}
