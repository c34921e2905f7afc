import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@dispatch/contracts';
import { enqueue, type Logger, observeStageLatency, recordInbox, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import type { Histogram } from 'prom-client';
import { type CloseReason, decideCharge, type NextStep, nextStep, type OrderFacts } from '../domain/payment';
import { chargeIdempotencyKey, refundIdempotencyKey } from '../gateway/gateway';
import type { ResilientGateway } from '../gateway/resilient-gateway';
import type { PaymentMetrics } from '../metrics';
import type { DedupCache } from '../redis/dedup-cache';
import type { OrderLock } from '../redis/order-lock';
import {
  claimLease,
  clearCardToken,
  completeCharge,
  completeRefund,
  findPayment,
  insertPayment,
  lockOrder,
  type PaymentRow,
  readCardToken,
  releaseLease,
  snapshotOf,
  startRefund,
} from '../store/payment-store';
import { OrderBusyError, PaymentInFlightError, RefundDeferredError } from './errors';
import { chargeDecidedEvent, refundedEvent } from './events';

/** The inbox consumer name (one per service). */
export const INBOX_CONSUMER = 'payment-service';

export interface PaymentDeps {
  pool: Pool;
  gateway: ResilientGateway;
  lock: OrderLock;
  dedup: DedupCache;
  metrics: PaymentMetrics;
  logger: Logger;
  /** Lease on a PENDING charge/refund; equals the Redis lock TTL (both outlive the longest gateway call). */
  leaseMs: number;
  /** The platform's saga_stage_latency_seconds (absent in pipelines without a service around them). */
  stageLatency?: Histogram<'stage'>;
}

/** What the decision inside the transaction leaves to do after it committed. */
type Plan =
  | { kind: 'none' }
  /** The payment is decided: refresh the Redis fast-path key. `newlyFailed`: decided just now, without a charge. */
  | { kind: 'decided'; status: 'AUTHORIZED' | 'FAILED'; newlyFailed?: PaymentRow }
  /** Drive the charge. `payment` is set when this transaction already leased it to `owner`. */
  | { kind: 'charge'; owner: string; payment?: PaymentRow }
  | { kind: 'refund'; owner: string; payment?: PaymentRow };

export interface Settlement {
  step: NextStep['kind'];
  plan: Plan;
  /** The order already had a payments row when this decision started (or the insert hit the unique orderId). */
  paymentExisted: boolean;
}

/** How handling one event ended, for metrics and logs. */
export type ProcessOutcome =
  | 'authorized'
  | 'failed'
  | 'refunded'
  | 'settled'
  | 'waiting'
  | 'nothing'
  | 'already_completed';

export interface ProcessResult {
  /** False when the inbox already had this eventId (a redelivery). */
  firstDelivery: boolean;
  settlement: Settlement;
  outcome: ProcessOutcome;
}

/**
 * The path every consumed event takes, on top of the inbox:
 *   1. Redis lock per orderId (busy → OrderBusyError, retried later; Redis down → go on without it);
 *   2. one transaction: inbox record, merge the event's facts (only on first delivery), decide
 *      (`settleOrder`, which holds the order row lock and relies on the unique orderId);
 *   3. after commit: call the gateway if a charge/refund is owed, and complete it in a second transaction.
 * A redelivered event (inbox duplicate) still runs the decision: if its first delivery died between the
 * PENDING commit and the completion, the redelivery is what finishes it.
 */
export async function processOrderEvent(
  deps: PaymentDeps,
  event: AnyEvent,
  merge: (tx: ClientBase) => Promise<void>,
  log: Logger,
): Promise<ProcessResult> {
  return withOrderLock(deps, event.orderId, async () => {
    const owner = randomUUID();
    const { firstDelivery, settlement } = await withTransaction(deps.pool, async (tx) => {
      const first = await recordInbox(tx, INBOX_CONSUMER, event.eventId, event.eventType);
      if (first) await merge(tx);
      return { firstDelivery: first, settlement: await settleOrder(tx, deps, event.orderId, owner) };
    });
    const outcome = await carryOut(deps, event.orderId, settlement, log);
    return { firstDelivery, settlement, outcome };
  });
}

/** Resumes an order whose charge or refund was abandoned (sweeper). Skips it when the lock is busy. */
export async function resumeOrder(deps: PaymentDeps, orderId: string, log: Logger): Promise<ProcessOutcome> {
  return withOrderLock(deps, orderId, async () => {
    const owner = randomUUID();
    const settlement = await withTransaction(deps.pool, (tx) => settleOrder(tx, deps, orderId, owner));
    return carryOut(deps, orderId, settlement, log);
  });
}

/** Layer 1: the per-order Redis lock around `fn`. */
export async function withOrderLock<T>(deps: PaymentDeps, orderId: string, fn: () => Promise<T>): Promise<T> {
  const lock = await deps.lock.acquire(orderId);
  if (lock.kind === 'busy') {
    deps.metrics.lockTimeouts.inc();
    throw new OrderBusyError(orderId);
  }
  try {
    return await fn();
  } finally {
    if (lock.kind === 'acquired') await lock.release();
  }
}

/**
 * Decides what the order is owed, inside the caller's transaction, holding the order's row lock so
 * concurrent handlers of one order decide one after another. Writes what can be written now (a PENDING
 * payment, a payment failed without a charge and its event, a PENDING refund); gateway calls happen
 * after commit.
 */
export async function settleOrder(
  tx: ClientBase,
  deps: PaymentDeps,
  orderId: string,
  owner: string,
): Promise<Settlement> {
  const order = await lockOrder(tx, orderId);
  if (!order) return { step: 'nothing', plan: { kind: 'none' }, paymentExisted: false };
  const payment = await findPayment(tx, orderId, { forUpdate: true });
  const step = nextStep(order, payment ? snapshotOf(payment) : null);
  const paymentExisted = payment !== undefined;

  // A closed order will never be charged, so its token is not kept; but never while a charge is PENDING,
  // whose resumption (after a crash) must repeat the gateway call with the same token and key.
  if (order.close && order.cardToken && payment?.status !== 'PENDING') await clearCardToken(tx, orderId);

  switch (step.kind) {
    case 'nothing':
    case 'wait-for-order':
      return { step: step.kind, plan: { kind: 'none' }, paymentExisted };

    case 'settled': {
      if (!payment || payment.status === 'PENDING')
        return { step: step.kind, plan: { kind: 'none' }, paymentExisted };
      await clearCardToken(tx, orderId);
      return { step: step.kind, plan: { kind: 'decided', status: payment.status }, paymentExisted };
    }

    case 'fail-without-charge':
    case 'start-charge': {
      // nextStep returns these only when a charge request is known.
      const request = order.chargeRequest;
      // inventory.reserved carries the customerId, so a known charge request has one.
      if (!request || !order.customerId) return { step: step.kind, plan: { kind: 'none' }, paymentExisted };
      const newPayment = {
        paymentId: randomUUID(),
        orderId,
        customerId: order.customerId,
        amount: request.amount,
        currency: request.currency,
        idempotencyKey: chargeIdempotencyKey(orderId),
        chargeEventId: request.eventId,
        requestedAt: request.requestedAt,
        correlationId: request.correlationId,
      };
      const state =
        step.kind === 'start-charge'
          ? ({ status: 'PENDING', leaseOwner: owner, leaseMs: deps.leaseMs } as const)
          : ({ status: 'FAILED', failureReason: step.reason } as const);
      const inserted = await insertPayment(tx, newPayment, state);
      // Layer 3: the unique orderId. Under the row lock a conflict cannot normally happen; if it does,
      // another writer already processed the order.
      if (!inserted) return { step: step.kind, plan: { kind: 'none' }, paymentExisted: true };
      const stored = await findPayment(tx, orderId);
      if (!stored) throw new Error(`payment of order ${orderId} vanished inside its transaction`);
      if (step.kind === 'start-charge') {
        return { step: step.kind, plan: { kind: 'charge', owner, payment: stored }, paymentExisted };
      }
      await clearCardToken(tx, orderId);
      await enqueue(tx, [chargeDecidedEvent(stored)]);
      return {
        step: step.kind,
        plan: { kind: 'decided', status: 'FAILED', newlyFailed: stored },
        paymentExisted,
      };
    }

    case 'continue-charge':
      return { step: step.kind, plan: { kind: 'charge', owner }, paymentExisted };

    case 'start-refund': {
      const started = await startRefund(tx, orderId, refundStart(step.reason, order.close, owner, deps));
      if (!started) return { step: step.kind, plan: { kind: 'none' }, paymentExisted };
      return { step: step.kind, plan: { kind: 'refund', owner, payment: started }, paymentExisted };
    }

    case 'continue-refund':
      return { step: step.kind, plan: { kind: 'refund', owner }, paymentExisted };
  }
}

/** A new refund, leased to `owner`, caused by the event that closed the order. */
function refundStart(reason: CloseReason, close: OrderFacts['close'], owner: string, deps: PaymentDeps) {
  // nextStep asks for a refund only once the order is closed.
  if (!close) throw new Error('a refund needs the order.cancelled / delivery.failed that asked for it');
  return {
    refundId: randomUUID(),
    reason,
    causeEventId: close.eventId,
    leaseOwner: owner,
    leaseMs: deps.leaseMs,
  };
}

/** After the deciding transaction committed: gateway calls and their completion. */
async function carryOut(
  deps: PaymentDeps,
  orderId: string,
  settlement: Settlement,
  log: Logger,
): Promise<ProcessOutcome> {
  const { plan } = settlement;
  switch (plan.kind) {
    case 'none':
      return settlement.step === 'wait-for-order' ? 'waiting' : 'nothing';
    case 'decided':
      if (plan.newlyFailed) {
        const reason = plan.newlyFailed.failureReason ?? 'UNKNOWN';
        deps.metrics.failed.inc({ reason });
        observeStage(deps, plan.newlyFailed);
        log.info({ failureReason: reason }, 'payment failed without a charge');
      }
      await deps.dedup.markDecided(orderId, plan.status);
      return plan.newlyFailed ? 'failed' : 'settled';
    case 'charge': {
      const payment =
        plan.payment ?? (await claimLease(deps.pool, orderId, 'charge', plan.owner, deps.leaseMs));
      if (!payment) throw new PaymentInFlightError(orderId, 'charge');
      return driveCharge(deps, payment, plan.owner, log);
    }
    case 'refund': {
      const payment =
        plan.payment ?? (await claimLease(deps.pool, orderId, 'refund', plan.owner, deps.leaseMs));
      if (!payment) throw new PaymentInFlightError(orderId, 'refund');
      return driveRefund(deps, payment, plan.owner, log);
    }
  }
}

/**
 * Calls the gateway for a PENDING payment this worker leased, then completes it. The idempotency key is
 * the payment's (derived from the orderId), so calling again after a crash, or while a paused worker
 * also calls, never charges twice. Completion is `UPDATE ... WHERE status = 'PENDING'`: exactly one
 * worker completes and enqueues the event; a later one finds it decided and does nothing.
 */
async function driveCharge(
  deps: PaymentDeps,
  payment: PaymentRow,
  owner: string,
  log: Logger,
): Promise<ProcessOutcome> {
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
      next?.kind === 'start-refund'
        ? await startRefund(tx, orderId, refundStart(next.reason, order?.close ?? null, owner, deps))
        : undefined;
    return { completed, refund };
  });

  if (!completion) {
    log.info('charge already completed by another worker');
    return 'already_completed';
  }
  const { completed, refund } = completion;
  observeStage(deps, completed);
  if (completed.status === 'AUTHORIZED') {
    deps.metrics.processed.inc();
    log.info({ paymentId: completed.paymentId }, 'payment authorized');
  } else {
    deps.metrics.failed.inc({ reason: completed.failureReason ?? 'UNKNOWN' });
    log.info({ paymentId: completed.paymentId, failureReason: completed.failureReason }, 'payment failed');
  }
  await deps.dedup.markDecided(orderId, completed.status);
  if (refund) await driveRefund(deps, refund, owner, log);
  return completed.status === 'AUTHORIZED' ? 'authorized' : 'failed';
}

/** saga_stage_latency_seconds{stage="payment.authorized"|"payment.failed"}: from inventory.reserved's occurredAt to the commit. */
function observeStage(deps: PaymentDeps, payment: PaymentRow): void {
  const stage = payment.status === 'AUTHORIZED' ? 'payment.authorized' : 'payment.failed';
  observeStageLatency(deps.stageLatency, stage, payment.requestedAt);
}

/**
 * Refunds an AUTHORIZED payment whose refund this worker leased. The refund's idempotency key is
 * derived from the orderId, so there is one refund per order however often this runs. A gateway that
 * cannot be reached leaves the refund PENDING and throws, so the message (or the sweeper) retries:
 * money owed back is never given up on.
 */
async function driveRefund(
  deps: PaymentDeps,
  payment: PaymentRow,
  owner: string,
  log: Logger,
): Promise<ProcessOutcome> {
  const { orderId } = payment;
  if (!payment.gatewayReference)
    throw new Error(`authorized payment ${payment.paymentId} has no gateway reference`);
  const answer = await deps.gateway.refund({
    idempotencyKey: refundIdempotencyKey(orderId),
    orderId,
    chargeReference: payment.gatewayReference,
    amount: payment.amount,
    currency: payment.currency,
  });
  if (answer.outcome === 'unavailable') {
    await releaseLease(deps.pool, orderId, owner);
    throw new RefundDeferredError(orderId, answer.detail);
  }
  const { refunded, order } = await withTransaction(deps.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    const row = await completeRefund(tx, orderId, answer.result.reference);
    if (row) await enqueue(tx, [refundedEvent(row)]);
    return { refunded: row, order };
  });
  if (!refunded) {
    log.info('refund already completed by another worker');
    return 'already_completed';
  }
  deps.metrics.refunds.inc({ reason: refunded.refundReason ?? 'UNKNOWN' });
  // From the occurredAt of the order.cancelled / delivery.failed that closed the order to this commit.
  if (order?.closeRequestedAt)
    observeStageLatency(deps.stageLatency, 'payment.refunded', order.closeRequestedAt);
  log.info({ paymentId: refunded.paymentId, refundReason: refunded.refundReason }, 'payment refunded');
  return 'refunded';
}
