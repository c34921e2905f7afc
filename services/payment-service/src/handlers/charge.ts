import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent } from '@dispatch/contracts';
import { enqueue, type Logger, observeStageLatency, withTransaction } from '@dispatch/platform';
import type { ClientBase } from 'pg';
import { decideCharge, type NoChargeReason, nextStep, type OrderFacts } from '../domain/payment';
import { chargeIdempotencyKey } from '../gateway/gateway';
import { clearCardToken, lockOrder, readCardToken } from '../store/order-store';
import {
  completeCharge,
  findPayment,
  insertPayment,
  type PaymentRow,
  snapshotOf,
  startRefund,
} from '../store/payment-store';
import { type PaymentDeps, PRODUCER } from './context';
import { driveRefund, newRefund } from './refund';

/**
 * The charge: inventory.reserved → payment.authorized | payment.failed, once per order. A gateway call
 * cannot sit inside a transaction, so it takes two transactions with the call between them:
 *   1. `openCharge`, inside the transaction that decided the order is owed a charge (its row locked):
 *      insert the order's one payment, PENDING and leased to this worker. The unique orderId (layer 3)
 *      makes any second insert a no-op, so there is never a second payment to charge.
 *   2. `driveCharge`, after that commit: the gateway call under the order's idempotency key, then
 *      PENDING → AUTHORIZED | FAILED with its event in the outbox, then the Redis fast-path key.
 * A charge that must not happen (cancelled first, no card) is decided FAILED in step 1, without a call.
 */

/** The charge inventory.reserved asked for, as merged into the order's facts. */
export interface ChargeRequest {
  orderId: string;
  customerId: string;
  request: NonNullable<OrderFacts['chargeRequest']>;
}

/**
 * Step 1: the order's payment — PENDING, leased to `start.owner`, or, when `start.noCharge` says why it
 * must not be charged, FAILED with its payment.failed enqueued and the card token dropped. Undefined
 * when the order already has a payment: another writer processed it (under the row lock it should not
 * happen; the unique orderId is what guarantees it).
 */
export async function openCharge(
  tx: ClientBase,
  charge: ChargeRequest,
  start: { owner: string; leaseMs: number } | { noCharge: NoChargeReason },
): Promise<PaymentRow | undefined> {
  const { orderId, customerId, request } = charge;
  const inserted = await insertPayment(
    tx,
    {
      paymentId: randomUUID(),
      orderId,
      customerId,
      amount: request.amount,
      currency: request.currency,
      idempotencyKey: chargeIdempotencyKey(orderId),
      chargeEventId: request.eventId,
      requestedAt: request.requestedAt,
      correlationId: request.correlationId,
    },
    'noCharge' in start
      ? { status: 'FAILED', failureReason: start.noCharge }
      : { status: 'PENDING', leaseOwner: start.owner, leaseMs: start.leaseMs },
  );
  if (!inserted) return undefined;
  const stored = await findPayment(tx, orderId);
  if (!stored) throw new Error(`payment of order ${orderId} vanished inside its transaction`);
  if ('noCharge' in start) {
    await clearCardToken(tx, orderId);
    await enqueue(tx, [chargeDecidedEvent(stored)]);
  }
  return stored;
}

/**
 * Step 2, for a PENDING payment this worker leased: call the gateway, then complete it. The idempotency
 * key is the payment's (derived from the orderId), so calling again after a crash, or while a paused
 * worker also calls, never charges twice. Completion is `UPDATE ... WHERE status = 'PENDING'`: exactly
 * one worker completes and enqueues the event; a later one finds it decided and does nothing.
 */
export async function driveCharge(
  deps: PaymentDeps,
  payment: PaymentRow,
  owner: string,
  log: Logger,
): Promise<'authorized' | 'failed' | 'already_completed'> {
  const { orderId } = payment;
  const cardToken = await readCardToken(deps.pool, orderId);
  const answer = cardToken
    ? await deps.gateway.charge({
        idempotencyKey: payment.idempotencyKey,
        orderId,
        amount: payment.amount,
        currency: payment.currency,
        cardToken,
      })
    : ({ outcome: 'declined', reason: 'invalid_payment_method' } as const);
  const decision = decideCharge(answer);

  const completion = await withTransaction(deps.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    const completed = await completeCharge(tx, orderId, decision);
    if (!completed) return undefined;
    await clearCardToken(tx, orderId);
    await enqueue(tx, [chargeDecidedEvent(completed)]);
    // Cancelled (or delivery failed) while the gateway call was in flight: refund at once.
    const next = order ? nextStep(order, snapshotOf(completed)) : undefined;
    const refund =
      next?.kind === 'start-refund' && order?.close
        ? await startRefund(tx, orderId, newRefund(next.reason, order.close, owner, deps.leaseMs))
        : undefined;
    return { completed, refund };
  });

  if (!completion) {
    log.info('charge already completed by another worker');
    return 'already_completed';
  }
  const { completed, refund } = completion;
  await chargeDecided(deps, completed, log, 'charged');
  if (refund) await driveRefund(deps, refund, owner, log);
  return completed.status === 'AUTHORIZED' ? 'authorized' : 'failed';
}

/**
 * After a decision committed (by `driveCharge`, or FAILED without a charge by `openCharge`): its
 * metrics and log line, then the Redis fast-path key (layer 2), written only now so that a hit always
 * means "decided".
 */
export async function chargeDecided(
  deps: PaymentDeps,
  payment: PaymentRow,
  log: Logger,
  how: 'charged' | 'without a charge',
): Promise<void> {
  // saga_stage_latency_seconds: from inventory.reserved's occurredAt to the commit.
  const stage = payment.status === 'AUTHORIZED' ? 'payment.authorized' : 'payment.failed';
  observeStageLatency(deps.stageLatency, stage, payment.requestedAt);
  if (payment.status === 'AUTHORIZED') {
    deps.metrics.processed.inc();
    log.info({ paymentId: payment.paymentId }, 'payment authorized');
  } else if (how === 'charged') {
    deps.metrics.failed.inc({ reason: payment.failureReason ?? 'UNKNOWN' });
    log.info({ paymentId: payment.paymentId, failureReason: payment.failureReason }, 'payment failed');
  } else {
    deps.metrics.failed.inc({ reason: payment.failureReason ?? 'UNKNOWN' });
    log.info({ failureReason: payment.failureReason ?? 'UNKNOWN' }, 'payment failed without a charge');
  }
  await deps.dedup.markDecided(payment.orderId, payment.status);
}

/** payment.authorized or payment.failed for a decided payment; it answers the inventory.reserved it was asked by. */
function chargeDecidedEvent(payment: PaymentRow): AnyEvent {
  const base = {
    orderId: payment.orderId,
    correlationId: payment.correlationId,
    causationId: payment.chargeEventId,
    producer: PRODUCER,
  };
  const money = {
    paymentId: payment.paymentId,
    orderId: payment.orderId,
    amount: payment.amount,
    currency: payment.currency,
  };
  if (payment.status === 'AUTHORIZED') {
    return createEvent({
      ...base,
      eventType: 'payment.authorized',
      payload: {
        ...money,
        status: 'AUTHORIZED',
        ...(payment.gatewayReference ? { gatewayReference: payment.gatewayReference } : {}),
      },
    });
  }
  if (payment.status === 'FAILED' && payment.failureReason) {
    return createEvent({
      ...base,
      eventType: 'payment.failed',
      payload: { ...money, status: 'FAILED', failureReason: payment.failureReason },
    });
  }
  throw new Error(`payment ${payment.paymentId} is ${payment.status}: no decision to announce`);
}
