import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import { decideOnPaymentAuthorized } from '../domain/assignment';
import { findDeliveryByOrder, insertDelivery } from '../store/deliveries';
import { orderFacts } from '../store/orders';
import { attemptAssignment, recordAttempt } from '../use-cases/assign';
import type { StepDeps } from './deps';

/**
 * payment.authorized: the order is paid, find it a driver. The delivery is recorded in any case,
 * so the event is never lost: assigned right away when a driver is free, otherwise PENDING (the
 * scheduler retries until DRIVER_WAIT_MS has passed, then emits delivery.failed), or AWAITING_ORDER
 * when order.created has not been seen yet, or CANCELLED when the order was cancelled first.
 * The step never waits for a driver, so the partition moves on at once.
 */
export async function handlePaymentAuthorized(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'payment.authorized'>>,
): Promise<void> {
  const { tx, event, logger } = step;
  const now = deps.clock.now();
  const order = await orderFacts(tx, event.orderId);
  const existing = await findDeliveryByOrder(tx, event.orderId, { forUpdate: true });
  const decision = decideOnPaymentAuthorized({
    now,
    order,
    existing: existing?.status,
    driverWaitMs: deps.settings.driverWaitMs,
  });
  if (decision.kind === 'already-handled') {
    step.afterCommit(() =>
      logger.warn({ status: decision.status }, 'order already has a delivery; payment.authorized ignored'),
    );
    return;
  }

  const delivery = await insertDelivery(
    tx,
    {
      deliveryId: randomUUID(),
      orderId: event.orderId,
      status:
        decision.kind === 'record-cancelled'
          ? 'CANCELLED'
          : decision.kind === 'await-order'
            ? 'AWAITING_ORDER'
            : 'PENDING',
      correlationId: event.correlationId,
      paymentEventId: event.eventId,
      paymentAuthorizedAt: new Date(event.occurredAt),
      destination: order.destination ?? null,
      assignDeadline: decision.kind === 'seek-driver' ? decision.deadline : null,
    },
    now,
  );
  switch (decision.kind) {
    case 'record-cancelled':
      step.afterCommit(() =>
        logger.info('order was cancelled before payment.authorized; no driver will be assigned'),
      );
      return;
    case 'await-order':
      step.afterCommit(() =>
        logger.info('payment.authorized before order.created; delivery parked until the address arrives'),
      );
      return;
  }
  const outcome = await attemptAssignment(tx, delivery, now, deps.settings, step.emit);
  step.afterCommit(() => {
    recordAttempt(deps.metrics, outcome);
    logger.info({ outcome: outcome.kind, deliveryId: outcome.deliveryId }, 'delivery assignment attempted');
  });
}
