import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@dispatch/contracts';
import { type Logger, recordInbox, withTransaction } from '@dispatch/platform';
import { decideOnPaymentAuthorized, type PaymentAuthorizedDecision } from '../domain/assignment';
import { findDeliveryByOrder, insertDelivery } from '../store/deliveries';
import { lockOrder } from '../store/orders';
import { type AttemptOutcome, attemptAssignment, recordAttempt } from '../use-cases/assign';
import { CONSUMER, type HandlerDeps } from './deps';

type Result =
  | { kind: 'duplicate' }
  | Exclude<PaymentAuthorizedDecision, { kind: 'seek-driver' }>
  | AttemptOutcome;

/**
 * payment.authorized: the order is paid, find it a driver. The delivery is recorded in any case,
 * so the event is never lost: assigned right away when a driver is free, otherwise PENDING (the
 * scheduler retries until DRIVER_WAIT_MS has passed, then emits delivery.failed), or AWAITING_ORDER
 * when order.created has not been seen yet, or CANCELLED when the order was cancelled first.
 * The handler never waits for a driver, so the partition moves on at once.
 */
export async function handlePaymentAuthorized(
  event: EventEnvelope<'payment.authorized'>,
  deps: HandlerDeps,
  log: Logger,
): Promise<void> {
  const now = deps.clock.now();
  const result = await withTransaction(deps.pool, async (tx): Promise<Result> => {
    if (!(await recordInbox(tx, CONSUMER, event.eventId, event.eventType))) return { kind: 'duplicate' };
    const order = await lockOrder(tx, event.orderId, now);
    const existing = await findDeliveryByOrder(tx, event.orderId, { forUpdate: true });
    const decision = decideOnPaymentAuthorized({
      now,
      order,
      existing: existing?.status,
      driverWaitMs: deps.settings.driverWaitMs,
    });
    if (decision.kind === 'already-handled') return decision;

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
    if (decision.kind !== 'seek-driver') return decision;
    return attemptAssignment(tx, delivery, now, deps.settings);
  });

  switch (result.kind) {
    case 'duplicate':
      return log.debug('payment.authorized already handled');
    case 'already-handled':
      return log.warn({ status: result.status }, 'order already has a delivery; payment.authorized ignored');
    case 'record-cancelled':
      return log.info('order was cancelled before payment.authorized; no driver will be assigned');
    case 'await-order':
      return log.info('payment.authorized before order.created; delivery parked until the address arrives');
    default:
      recordAttempt(deps.metrics, result);
      log.info({ outcome: result.kind, deliveryId: result.deliveryId }, 'delivery assignment attempted');
  }
}
