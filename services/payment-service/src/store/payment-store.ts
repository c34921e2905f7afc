import type { Currency, Money } from '@dispatch/contracts';
import type { ClientBase, Pool } from 'pg';
import type {
  ChargeDecision,
  CloseReason,
  PaymentSnapshot,
  PaymentStatus,
  RefundStatus,
} from '../domain/payment';

/** Anything that runs a query: the pool (one statement, autocommit) or a transaction's client. */
type Db = Pool | ClientBase;

/** A payments row. Amounts come back from numeric(14,2) as 2-dp strings, i.e. Money. */
export interface PaymentRow {
  paymentId: string;
  orderId: string;
  customerId: string;
  amount: Money;
  currency: Currency;
  status: PaymentStatus;
  failureReason: string | null;
  gatewayReference: string | null;
  idempotencyKey: string;
  chargeEventId: string;
  requestedAt: Date;
  correlationId: string;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  refundStatus: RefundStatus | null;
  refundId: string | null;
  refundReason: CloseReason | null;
  refundEventId: string | null;
  refundReference: string | null;
  createdAt: Date;
  decidedAt: Date | null;
  refundedAt: Date | null;
}

interface PaymentRecord {
  payment_id: string;
  order_id: string;
  customer_id: string;
  amount: string;
  currency: string;
  status: PaymentStatus;
  failure_reason: string | null;
  gateway_reference: string | null;
  idempotency_key: string;
  charge_event_id: string;
  requested_at: Date;
  correlation_id: string;
  lease_owner: string | null;
  lease_until: Date | null;
  refund_status: RefundStatus | null;
  refund_id: string | null;
  refund_reason: CloseReason | null;
  refund_event_id: string | null;
  refund_reference: string | null;
  created_at: Date;
  decided_at: Date | null;
  refunded_at: Date | null;
}

function toPayment(r: PaymentRecord): PaymentRow {
  return {
    paymentId: r.payment_id,
    orderId: r.order_id,
    customerId: r.customer_id,
    amount: r.amount,
    // Written only from validated events, so the stored code is one of ours.
    currency: r.currency as Currency,
    status: r.status,
    failureReason: r.failure_reason,
    gatewayReference: r.gateway_reference,
    idempotencyKey: r.idempotency_key,
    chargeEventId: r.charge_event_id,
    requestedAt: r.requested_at,
    correlationId: r.correlation_id,
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until,
    refundStatus: r.refund_status,
    refundId: r.refund_id,
    refundReason: r.refund_reason,
    refundEventId: r.refund_event_id,
    refundReference: r.refund_reference,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    refundedAt: r.refunded_at,
  };
}

export function snapshotOf(payment: PaymentRow): PaymentSnapshot {
  return { status: payment.status, refundStatus: payment.refundStatus };
}

/** A payments row's columns, qualified with `table` where a bare name could be another table's. */
function paymentColumns(table?: string): string {
  const q = table ? `${table}.` : '';
  return `${q}payment_id, ${q}order_id, ${q}customer_id, ${q}amount::text AS amount, ${q}currency, ${q}status,
  ${q}failure_reason, ${q}gateway_reference, ${q}idempotency_key, ${q}charge_event_id, ${q}requested_at,
  ${q}correlation_id, ${q}lease_owner, ${q}lease_until, ${q}refund_status, ${q}refund_id, ${q}refund_reason,
  ${q}refund_event_id, ${q}refund_reference, ${q}created_at, ${q}decided_at, ${q}refunded_at`;
}

const PAYMENT_COLUMNS = paymentColumns();
const UPDATED_PAYMENT_COLUMNS = paymentColumns('p');

export async function findPayment(db: Db, orderId: string): Promise<PaymentRow | undefined> {
  const result = await db.query<PaymentRecord>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1`,
    [orderId],
  );
  const row = result.rows[0];
  return row ? toPayment(row) : undefined;
}

/** The payments of several orders by orderId, row-locked (the caller already holds their orders' locks). */
export async function lockPayments(
  tx: ClientBase,
  orderIds: readonly string[],
): Promise<Map<string, PaymentRow>> {
  if (orderIds.length === 0) return new Map();
  const result = await tx.query<PaymentRecord>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = ANY($1::text[]) ORDER BY order_id FOR UPDATE`,
    [orderIds],
  );
  return new Map(result.rows.map((row) => [row.order_id, toPayment(row)]));
}

export interface NewPayment {
  paymentId: string;
  orderId: string;
  customerId: string;
  amount: Money;
  currency: Currency;
  idempotencyKey: string;
  chargeEventId: string;
  requestedAt: Date;
  correlationId: string;
}

/**
 * Inserts the order's one payment and returns it. Undefined when the order already has one: the unique
 * orderId is the durable guard, and the caller treats the conflict as "already processed".
 */
export async function insertPayment(
  tx: ClientBase,
  payment: NewPayment,
  state:
    | { status: 'PENDING'; leaseOwner: string; leaseMs: number }
    | { status: 'FAILED'; failureReason: string },
): Promise<PaymentRow | undefined> {
  const pending = state.status === 'PENDING';
  const result = await tx.query<PaymentRecord>(
    `INSERT INTO payments (payment_id, order_id, customer_id, amount, currency, status, failure_reason,
                           idempotency_key, charge_event_id, correlation_id, lease_owner, lease_until, decided_at,
                           requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
             CASE WHEN $12::bigint IS NULL THEN NULL ELSE clock_timestamp() + $12::bigint * interval '1 millisecond' END,
             CASE WHEN $6 = 'PENDING' THEN NULL ELSE now() END, $13)
     ON CONFLICT (order_id) DO NOTHING
     RETURNING ${PAYMENT_COLUMNS}`,
    [
      payment.paymentId,
      payment.orderId,
      payment.customerId,
      payment.amount,
      payment.currency,
      state.status,
      pending ? null : state.failureReason,
      payment.idempotencyKey,
      payment.chargeEventId,
      payment.correlationId,
      pending ? state.leaseOwner : null,
      pending ? state.leaseMs : null,
      payment.requestedAt,
    ],
  );
  const row = result.rows[0];
  return row ? toPayment(row) : undefined;
}

/**
 * Takes over the lease of an unfinished charge (PENDING) or refund (refund PENDING) when nobody holds
 * it or its holder's lease expired. One statement, so two workers can never both win. Returns the
 * row when this owner now holds the lease.
 */
export async function claimLease(
  db: Db,
  orderId: string,
  work: 'charge' | 'refund',
  owner: string,
  leaseMs: number,
): Promise<PaymentRow | undefined> {
  const unfinished = work === 'charge' ? `status = 'PENDING'` : `refund_status = 'PENDING'`;
  const result = await db.query<PaymentRecord>(
    `UPDATE payments
        SET lease_owner = $2, lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond', updated_at = now()
      WHERE order_id = $1 AND ${unfinished}
        AND (lease_until IS NULL OR lease_until < clock_timestamp() OR lease_owner = $2)
      RETURNING ${PAYMENT_COLUMNS}`,
    [orderId, owner, leaseMs],
  );
  const row = result.rows[0];
  return row ? toPayment(row) : undefined;
}

/** Gives the lease back early (after a failed refund attempt) so a retry need not wait for it to expire. */
export async function releaseLease(db: Db, orderId: string, owner: string): Promise<void> {
  await db.query(
    `UPDATE payments SET lease_owner = NULL, lease_until = NULL, updated_at = now()
      WHERE order_id = $1 AND lease_owner = $2`,
    [orderId, owner],
  );
}

/**
 * PENDING → AUTHORIZED | FAILED for several orders in one statement. Returns the completed rows;
 * an order whose payment was no longer PENDING (another worker completed it) is not among them.
 */
export async function completeCharges(
  tx: ClientBase,
  decisions: readonly { orderId: string; decision: ChargeDecision }[],
): Promise<PaymentRow[]> {
  if (decisions.length === 0) return [];
  const result = await tx.query<PaymentRecord>(
    `UPDATE payments AS p
        SET status = d.status, gateway_reference = d.gateway_reference, failure_reason = d.failure_reason,
            lease_owner = NULL, lease_until = NULL, decided_at = now(), updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            AS d(order_id, status, gateway_reference, failure_reason)
      WHERE p.order_id = d.order_id AND p.status = 'PENDING'
      RETURNING ${UPDATED_PAYMENT_COLUMNS}`,
    [
      decisions.map((d) => d.orderId),
      decisions.map((d) => d.decision.status),
      decisions.map((d) => (d.decision.status === 'AUTHORIZED' ? d.decision.gatewayReference : null)),
      decisions.map((d) => (d.decision.status === 'FAILED' ? d.decision.failureReason : null)),
    ],
  );
  return result.rows.map(toPayment);
}

/** AUTHORIZED → refund PENDING, leased to `owner`. Returns the row, or undefined when not applicable. */
export async function startRefund(
  tx: ClientBase,
  orderId: string,
  refund: {
    refundId: string;
    reason: CloseReason;
    causeEventId: string;
    leaseOwner: string;
    leaseMs: number;
  },
): Promise<PaymentRow | undefined> {
  const result = await tx.query<PaymentRecord>(
    `UPDATE payments
        SET refund_status = 'PENDING', refund_id = $2, refund_reason = $3, refund_event_id = $4,
            lease_owner = $5, lease_until = clock_timestamp() + $6::bigint * interval '1 millisecond',
            updated_at = now()
      WHERE order_id = $1 AND status = 'AUTHORIZED' AND refund_status IS NULL
      RETURNING ${PAYMENT_COLUMNS}`,
    [orderId, refund.refundId, refund.reason, refund.causeEventId, refund.leaseOwner, refund.leaseMs],
  );
  const row = result.rows[0];
  return row ? toPayment(row) : undefined;
}

/** refund PENDING → REFUNDED. Returns the row, or undefined when it was no longer PENDING. */
export async function completeRefund(
  tx: ClientBase,
  orderId: string,
  refundReference: string,
): Promise<PaymentRow | undefined> {
  const result = await tx.query<PaymentRecord>(
    `UPDATE payments
        SET refund_status = 'REFUNDED', refund_reference = $2, refunded_at = now(),
            lease_owner = NULL, lease_until = NULL, updated_at = now()
      WHERE order_id = $1 AND refund_status = 'PENDING'
      RETURNING ${PAYMENT_COLUMNS}`,
    [orderId, refundReference],
  );
  const row = result.rows[0];
  return row ? toPayment(row) : undefined;
}

/** Orders whose charge or refund is unfinished and whose worker's lease expired (it crashed or gave up). */
export async function findAbandoned(db: Db, limit: number): Promise<string[]> {
  const result = await db.query<{ order_id: string }>(
    `SELECT order_id FROM payments
      WHERE (status = 'PENDING' OR refund_status = 'PENDING')
        AND (lease_until IS NULL OR lease_until < clock_timestamp())
      ORDER BY lease_until NULLS FIRST
      LIMIT $1`,
    [limit],
  );
  return result.rows.map((r) => r.order_id);
}
