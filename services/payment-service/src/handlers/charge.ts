import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent } from '@dispatch/contracts';
import { enqueueEntries, type Logger, observeStageLatency, withTransaction } from '@dispatch/platform';
import type { ClientBase } from 'pg';
import {
  type ChargeDecision,
  decideCharge,
  type NoChargeReason,
  nextStep,
  type OrderFacts,
} from '../domain/payment';
import { chargeIdempotencyKey } from '../gateway/gateway';
import { clearCardToken, clearCardTokens, lockOrders } from '../store/order-store';
import {
  completeCharges,
  insertPayment,
  type PaymentRow,
  snapshotOf,
  startRefund,
} from '../store/payment-store';
import { type OrderContext, type PaymentDeps, PRODUCER, traceHeaders } from './context';
import { driveRefund, newRefund } from './refund';

/**
 * The charge: inventory.reserved → payment.authorized | payment.failed, once per order. A gateway call
 * cannot sit inside a transaction, so it takes two transactions with the call between them:
 *   1. `openCharge`, inside the transaction that decided the order is owed a charge (its row locked):
 *      insert the order's one payment, PENDING and leased to this worker. The unique orderId (layer 3)
 *      makes any second insert a no-op, so there is never a second payment to charge.
 *   2. `driveCharges`, after that commit, for all of a batch's charges at once: the gateway calls under
 *      each order's idempotency key, then one transaction that moves them PENDING → AUTHORIZED | FAILED
 *      with their events in the outbox. The caller then writes the Redis fast-path keys.
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
  context: OrderContext,
): Promise<PaymentRow | undefined> {
  const { orderId, customerId, request } = charge;
  const stored = await insertPayment(
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
  if (stored && 'noCharge' in start) {
    await clearCardToken(tx, orderId);
    await enqueueEntries(tx, [{ event: chargeDecidedEvent(stored), headers: traceHeaders(context) }]);
  }
  return stored;
}

/** A PENDING payment this worker leased, to charge with the order's card token. */
export interface ChargeWork {
  payment: PaymentRow;
  owner: string;
  cardToken: string | null;
  context: OrderContext;
}

export interface ChargesDriven {
  outcomes: Map<string, 'authorized' | 'failed' | 'already_completed'>;
  /** The payments decided by this call (their fast-path keys are the caller's to write). */
  decided: PaymentRow[];
  /** Failures (a gateway adapter that threw, a refund deferred); the other charges went on. */
  errors: unknown[];
}

/**
 * Step 2, for PENDING payments this worker leased: the gateway calls (all at once), then one
 * transaction completing them. The idempotency key is the payment's (derived from the orderId), so
 * calling again after a crash, or while a paused worker also calls, never charges twice. Completion is
 * `UPDATE ... WHERE status = 'PENDING'`: exactly one worker completes a payment and enqueues its
 * event; a later one finds it decided and does nothing.
 */
export async function driveCharges(
  deps: PaymentDeps,
  charges: readonly ChargeWork[],
): Promise<ChargesDriven> {
  const driven: ChargesDriven = { outcomes: new Map(), decided: [], errors: [] };
  const answers = await Promise.allSettled(charges.map((work) => askGateway(deps, work)));
  const answered: { work: ChargeWork; decision: ChargeDecision }[] = [];
  answers.forEach((answer, i) => {
    const work = charges[i];
    if (answer.status === 'rejected') driven.errors.push(answer.reason);
    else if (work) answered.push({ work, decision: answer.value });
  });
  if (answered.length === 0) return driven;

  const byOrder = new Map(answered.map(({ work }) => [work.payment.orderId, work]));
  const { completed, refunds } = await withTransaction(deps.pool, async (tx) => {
    const orders = await lockOrders(tx, [...byOrder.keys()]);
    const completed = await completeCharges(
      tx,
      answered.map(({ work, decision }) => ({ orderId: work.payment.orderId, decision })),
    );
    await clearCardTokens(
      tx,
      completed.map((payment) => payment.orderId),
    );
    await enqueueEntries(
      tx,
      completed.map((payment) => ({
        event: chargeDecidedEvent(payment),
        headers: traceHeaders(byOrder.get(payment.orderId)?.context),
      })),
    );
    // Cancelled (or delivery failed) while the gateway call was in flight: refund at once.
    const refunds: { payment: PaymentRow; work: ChargeWork }[] = [];
    for (const payment of completed) {
      const order = orders.get(payment.orderId);
      const work = byOrder.get(payment.orderId);
      const next = order ? nextStep(order, snapshotOf(payment)) : undefined;
      if (next?.kind !== 'start-refund' || !order?.close || !work) continue;
      const refund = await startRefund(
        tx,
        payment.orderId,
        newRefund(next.reason, order.close, work.owner, deps.leaseMs),
      );
      if (refund) refunds.push({ payment: refund, work });
    }
    return { completed, refunds };
  });

  const completedByOrder = new Map(completed.map((payment) => [payment.orderId, payment]));
  for (const { work } of answered) {
    const payment = completedByOrder.get(work.payment.orderId);
    if (!payment) {
      work.context.logger.info('charge already completed by another worker');
      driven.outcomes.set(work.payment.orderId, 'already_completed');
      continue;
    }
    chargeDecided(deps, payment, work.context.logger, 'charged');
    driven.decided.push(payment);
    driven.outcomes.set(payment.orderId, payment.status === 'AUTHORIZED' ? 'authorized' : 'failed');
  }
  const refunded = await Promise.allSettled(
    refunds.map(({ payment, work }) => driveRefund(deps, payment, work.owner, work.context)),
  );
  for (const result of refunded) if (result.status === 'rejected') driven.errors.push(result.reason);
  return driven;
}

/** One charge's gateway call; without a card token there is nothing to call, and the charge is declined. */
async function askGateway(deps: PaymentDeps, { payment, cardToken }: ChargeWork): Promise<ChargeDecision> {
  const answer = cardToken
    ? await deps.gateway.charge({
        idempotencyKey: payment.idempotencyKey,
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
        cardToken,
      })
    : ({ outcome: 'declined', reason: 'invalid_payment_method' } as const);
  return decideCharge(answer);
}

/**
 * After a decision committed (by `driveCharges`, or FAILED without a charge by `openCharge`): its
 * metrics and log line. The caller then writes the Redis fast-path key (layer 2), only now, so that a
 * hit always means "decided".
 */
export function chargeDecided(
  deps: PaymentDeps,
  payment: PaymentRow,
  log: Logger,
  how: 'charged' | 'without a charge',
): void {
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
