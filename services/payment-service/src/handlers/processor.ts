import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@dispatch/contracts';
import { type Logger, recordInboxBatch, withTransaction } from '@dispatch/platform';
import type { ClientBase } from 'pg';
import { type NextStep, nextStep } from '../domain/payment';
import { clearCardToken, lockOrders, type OrderRow } from '../store/order-store';
import { claimLease, lockPayments, type PaymentRow, snapshotOf, startRefund } from '../store/payment-store';
import { type ChargeWork, chargeDecided, driveCharges, openCharge } from './charge';
import { INBOX_CONSUMER, type OrderContext, type PaymentDeps } from './context';
import { OrderBusyError, PaymentInFlightError } from './errors';
import type { FactMerge } from './facts';
import { driveRefund, newRefund } from './refund';

/** What the decision inside the transaction leaves to do after it committed. */
type Plan =
  | { kind: 'none' }
  /** The payment is decided: refresh the Redis fast-path key. `newlyFailed`: decided just now, without a charge. */
  | { kind: 'decided'; status: 'AUTHORIZED' | 'FAILED'; newlyFailed?: PaymentRow }
  /** Drive the charge with the order's card token. `payment` is set when this transaction leased it to `owner`. */
  | { kind: 'charge'; owner: string; cardToken: string | null; payment?: PaymentRow }
  | { kind: 'refund'; owner: string; payment?: PaymentRow };

export interface Settlement {
  step: NextStep['kind'];
  plan: Plan;
  /** The order already had a payments row when this decision started (or the insert hit the unique orderId). */
  paymentExisted: boolean;
}

/** How settling one order ended, for metrics and logs. */
export type ProcessOutcome =
  | 'authorized'
  | 'failed'
  | 'refunded'
  | 'settled'
  | 'waiting'
  | 'nothing'
  | 'already_completed';

/** One consumed event of a batch: the fact it adds to its order, and where its order's output goes. */
export interface OrderEvent extends OrderContext {
  event: AnyEvent;
  merge: FactMerge;
}

export interface BatchResult {
  /** The events the inbox did not have yet (the others are redeliveries and merged nothing). */
  firstDeliveries: ReadonlySet<OrderEvent>;
  /** Each order's settlement and how carrying it out ended. */
  orders: ReadonlyMap<string, { settlement: Settlement; outcome: ProcessOutcome }>;
}

/**
 * The path a batch of consumed events takes, on top of the inbox:
 *   1. the Redis locks of all its orders, in one round trip (any busy → OrderBusyError, the batch is
 *      retried later; Redis down → go on without them);
 *   2. one transaction: the inbox records every event id at once, first deliveries merge their facts,
 *      then each order is decided (`settleOrder`, holding the order rows' locks and relying on the
 *      unique orderId);
 *   3. after commit: the owed charges go to the gateway together and are completed in one second
 *      transaction (charge.ts), refunds are driven (refund.ts).
 * A redelivered event (inbox duplicate) still gets its order decided: if its first delivery died between
 * the PENDING commit and the completion, the redelivery is what finishes it. So a batch that throws
 * after the first commit is safe to run again, as the consumer does, one event at a time.
 */
export async function processOrderEvents(
  deps: PaymentDeps,
  events: readonly OrderEvent[],
): Promise<BatchResult> {
  const orderIds = [...new Set(events.map(({ event }) => event.orderId))].sort();
  return withOrderLocks(deps, orderIds, async () => {
    const owner = randomUUID();
    const { firstDeliveries, settlements } = await withTransaction(deps.pool, async (tx) => {
      const firsts = await recordInboxBatch(
        tx,
        INBOX_CONSUMER,
        events.map(({ event }) => ({ eventId: event.eventId, eventType: event.eventType })),
      );
      const fresh = new Set(events.filter(({ event }) => firsts.take(event.eventId)));
      for (const item of events) if (fresh.has(item)) await item.merge(tx);
      return {
        firstDeliveries: fresh,
        settlements: await settleOrders(tx, deps, orderIds, owner, (id) => contextOf(events, id)),
      };
    });
    const orders = await carryOut(deps, settlements, (id) => contextOf(events, id));
    return { firstDeliveries, orders };
  });
}

/** Resumes an order whose charge or refund was abandoned (sweeper). Skips it when the lock is busy. */
export async function resumeOrder(deps: PaymentDeps, orderId: string, log: Logger): Promise<ProcessOutcome> {
  return withOrderLocks(deps, [orderId], async () => {
    const owner = randomUUID();
    const context = () => ({ logger: log });
    const settlements = await withTransaction(deps.pool, (tx) =>
      settleOrders(tx, deps, [orderId], owner, context),
    );
    const result = (await carryOut(deps, settlements, context)).get(orderId);
    return result?.outcome ?? 'nothing';
  });
}

/** An order's logger and trace: those of its last event in the batch. */
function contextOf(events: readonly OrderEvent[], orderId: string): OrderContext {
  const last = events.findLast(({ event }) => event.orderId === orderId);
  if (!last) throw new Error(`order ${orderId} has no event in this batch`);
  return { logger: last.logger, ...(last.traceparent ? { traceparent: last.traceparent } : {}) };
}

/** Layer 1: the per-order Redis locks around `fn`. */
async function withOrderLocks<T>(
  deps: PaymentDeps,
  orderIds: readonly string[],
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await deps.lock.acquire(orderIds);
  if (lock.kind === 'busy') {
    deps.metrics.lockTimeouts.inc();
    throw new OrderBusyError(lock.orderId);
  }
  try {
    return await fn();
  } finally {
    if (lock.kind === 'acquired') await lock.release();
  }
}

/** Locks the orders and their payments (two statements for the batch), then decides each order. */
async function settleOrders(
  tx: ClientBase,
  deps: PaymentDeps,
  orderIds: readonly string[],
  owner: string,
  contextOf: (orderId: string) => OrderContext,
): Promise<Map<string, Settlement>> {
  const orders = await lockOrders(tx, orderIds);
  const payments = await lockPayments(tx, [...orders.keys()]);
  const settlements = new Map<string, Settlement>();
  for (const orderId of orderIds) {
    const order = orders.get(orderId);
    settlements.set(
      orderId,
      order
        ? await settleOrder(tx, deps, order, payments.get(orderId), owner, contextOf(orderId))
        : { step: 'nothing', plan: { kind: 'none' }, paymentExisted: false },
    );
  }
  return settlements;
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
  order: OrderRow,
  payment: PaymentRow | undefined,
  owner: string,
  context: OrderContext,
): Promise<Settlement> {
  const { orderId } = order;
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
        const pending = await openCharge(tx, charge, { owner, leaseMs: deps.leaseMs }, context);
        return pending
          ? settled({ kind: 'charge', owner, cardToken: order.cardToken, payment: pending })
          : settled({ kind: 'none' }, true);
      }
      const failed = await openCharge(tx, charge, { noCharge: step.reason }, context);
      return failed
        ? settled({ kind: 'decided', status: 'FAILED', newlyFailed: failed })
        : settled({ kind: 'none' }, true);
    }

    case 'continue-charge':
      return settled({ kind: 'charge', owner, cardToken: order.cardToken });

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

/**
 * After the deciding transaction committed: the gateway calls and their completion, for every order of
 * the batch. Every order is carried as far as it goes before the first failure is thrown, so one order
 * whose charge is in flight elsewhere does not leave another's lease hanging.
 */
async function carryOut(
  deps: PaymentDeps,
  settlements: ReadonlyMap<string, Settlement>,
  contextOf: (orderId: string) => OrderContext,
): Promise<Map<string, { settlement: Settlement; outcome: ProcessOutcome }>> {
  const outcomes = new Map<string, ProcessOutcome>();
  const decided: { orderId: string; status: string }[] = [];
  const charges: ChargeWork[] = [];
  const refunds: { payment: PaymentRow; owner: string; context: OrderContext }[] = [];
  const errors: unknown[] = [];

  for (const [orderId, { step, plan }] of settlements) {
    const context = contextOf(orderId);
    switch (plan.kind) {
      case 'none':
        outcomes.set(orderId, step === 'wait-for-order' ? 'waiting' : 'nothing');
        break;
      case 'decided':
        if (plan.newlyFailed) chargeDecided(deps, plan.newlyFailed, context.logger, 'without a charge');
        decided.push({ orderId, status: plan.status });
        outcomes.set(orderId, plan.newlyFailed ? 'failed' : 'settled');
        break;
      case 'charge': {
        const payment =
          plan.payment ?? (await claimLease(deps.pool, orderId, 'charge', plan.owner, deps.leaseMs));
        if (payment) charges.push({ payment, owner: plan.owner, cardToken: plan.cardToken, context });
        else errors.push(new PaymentInFlightError(orderId, 'charge'));
        break;
      }
      case 'refund': {
        const payment =
          plan.payment ?? (await claimLease(deps.pool, orderId, 'refund', plan.owner, deps.leaseMs));
        if (payment) refunds.push({ payment, owner: plan.owner, context });
        else errors.push(new PaymentInFlightError(orderId, 'refund'));
        break;
      }
    }
  }

  if (charges.length > 0) {
    const charged = await driveCharges(deps, charges);
    for (const [orderId, outcome] of charged.outcomes) outcomes.set(orderId, outcome);
    for (const payment of charged.decided) decided.push({ orderId: payment.orderId, status: payment.status });
    errors.push(...charged.errors);
  }
  const refunded = await Promise.allSettled(
    refunds.map(({ payment, owner, context }) => driveRefund(deps, payment, owner, context)),
  );
  refunded.forEach((result, i) => {
    const orderId = refunds[i]?.payment.orderId;
    if (result.status === 'rejected') errors.push(result.reason);
    else if (orderId) outcomes.set(orderId, result.value);
  });

  // Layer 2, written only now that every decision above has committed.
  await deps.dedup.markDecided(decided);
  if (errors.length > 0) throw errors[0];
  return new Map(
    [...settlements].map(([orderId, settlement]) => [
      orderId,
      { settlement, outcome: outcomes.get(orderId) ?? 'nothing' },
    ]),
  );
}
