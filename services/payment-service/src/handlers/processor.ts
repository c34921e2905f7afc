import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@dispatch/contracts';
import { type Logger, recordInbox, withTransaction } from '@dispatch/platform';
import type { ClientBase } from 'pg';
import { type NextStep, nextStep } from '../domain/payment';
import { clearCardToken, lockOrder } from '../store/order-store';
import { claimLease, findPayment, type PaymentRow, snapshotOf, startRefund } from '../store/payment-store';
import { chargeDecided, driveCharge, openCharge } from './charge';
import { INBOX_CONSUMER, type PaymentDeps } from './context';
import { OrderBusyError, PaymentInFlightError } from './errors';
import { driveRefund, newRefund } from './refund';

/** What the decision inside the transaction leaves to do after it committed. */
type Plan =
  | { kind: 'none' }
  /** The payment is decided: refresh the Redis fast-path key. `newlyFailed`: decided just now, without a charge. */
  | { kind: 'decided'; status: 'AUTHORIZED' | 'FAILED'; newlyFailed?: PaymentRow }
  /** Drive the charge. `payment` is set when this transaction already leased it to `owner`. */
  | { kind: 'charge'; owner: string; payment?: PaymentRow }
  | { kind: 'refund'; owner: string; payment?: PaymentRow };

interface Settlement {
  step: NextStep['kind'];
  plan: Plan;
  /** The order already had a payments row when this decision started (or the insert hit the unique orderId). */
  paymentExisted: boolean;
}

/** How handling one event ended, for metrics and logs. */
type ProcessOutcome =
  | 'authorized'
  | 'failed'
  | 'refunded'
  | 'settled'
  | 'waiting'
  | 'nothing'
  | 'already_completed';

interface ProcessResult {
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
 *   3. after commit: call the gateway if a charge (charge.ts) or refund (refund.ts) is owed, and complete
 *      it in a second transaction.
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
async function withOrderLock<T>(deps: PaymentDeps, orderId: string, fn: () => Promise<T>): Promise<T> {
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
 * Decides what the order is owed (domain `nextStep`), inside the caller's transaction, holding the
 * order's row lock so concurrent handlers of one order decide one after another. Writes what can be
 * written now (a PENDING payment, a payment failed without a charge and its event, a PENDING refund);
 * gateway calls happen after commit.
 */
async function settleOrder(
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
  const settled = (plan: Plan, existed = paymentExisted): Settlement => ({
    step: step.kind,
    plan,
    paymentExisted: existed,
  });

  // A closed order will never be charged, so its token is not kept; but never while a charge is PENDING,
  // whose resumption (after a crash) must repeat the gateway call with the same token and key.
  if (order.close && order.cardToken && payment?.status !== 'PENDING') await clearCardToken(tx, orderId);

  switch (step.kind) {
    case 'nothing':
    case 'wait-for-order':
      return settled({ kind: 'none' });

    case 'settled': {
      if (!payment || payment.status === 'PENDING') return settled({ kind: 'none' });
      await clearCardToken(tx, orderId);
      return settled({ kind: 'decided', status: payment.status });
    }

    case 'fail-without-charge':
    case 'start-charge': {
      // nextStep returns these only when a charge request is known; inventory.reserved carries the
      // customerId, so a known charge request has one.
      const request = order.chargeRequest;
      if (!request || !order.customerId) return settled({ kind: 'none' });
      const charge = { orderId, customerId: order.customerId, request };
      if (step.kind === 'start-charge') {
        const pending = await openCharge(tx, charge, { owner, leaseMs: deps.leaseMs });
        return pending
          ? settled({ kind: 'charge', owner, payment: pending })
          : settled({ kind: 'none' }, true);
      }
      const failed = await openCharge(tx, charge, { noCharge: step.reason });
      return failed
        ? settled({ kind: 'decided', status: 'FAILED', newlyFailed: failed })
        : settled({ kind: 'none' }, true);
    }

    case 'continue-charge':
      return settled({ kind: 'charge', owner });

    case 'start-refund': {
      // nextStep asks for a refund only once the order is closed.
      if (!order.close)
        throw new Error('a refund needs the order.cancelled / delivery.failed that asked for it');
      const started = await startRefund(
        tx,
        orderId,
        newRefund(step.reason, order.close, owner, deps.leaseMs),
      );
      return started ? settled({ kind: 'refund', owner, payment: started }) : settled({ kind: 'none' });
    }

    case 'continue-refund':
      return settled({ kind: 'refund', owner });
  }
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
        await chargeDecided(deps, plan.newlyFailed, log, 'without a charge');
        return 'failed';
      }
      await deps.dedup.markDecided(orderId, plan.status);
      return 'settled';
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
