import type { Currency, Money } from '@dispatch/contracts';
import type { ClientBase } from 'pg';
import type { CloseReason, OrderFacts } from '../domain/payment';

/**
 * payment_orders: what payment knows about each order, merged from the events it consumes (the first
 * value wins), row-locked while one order's next step is decided.
 */

export interface OrderRow extends OrderFacts {
  orderId: string;
  customerId: string | null;
  /** occurredAt of the event that closed the order (the first one), for the refund's stage latency. */
  closeRequestedAt: Date | null;
}

interface OrderRecord {
  order_id: string;
  customer_id: string | null;
  order_seen: boolean;
  card_token: string | null;
  charge_event_id: string | null;
  charge_requested_at: Date | null;
  correlation_id: string | null;
  amount: string | null;
  currency: string | null;
  close_reason: CloseReason | null;
  close_event_id: string | null;
  close_requested_at: Date | null;
}

function toOrder(r: OrderRecord): OrderRow {
  const chargeRequest =
    r.charge_event_id && r.charge_requested_at && r.correlation_id && r.amount && r.currency
      ? {
          eventId: r.charge_event_id,
          requestedAt: r.charge_requested_at,
          correlationId: r.correlation_id,
          amount: r.amount,
          currency: r.currency as Currency,
        }
      : null;
  return {
    orderId: r.order_id,
    customerId: r.customer_id,
    orderSeen: r.order_seen,
    cardToken: r.card_token,
    chargeRequest,
    close: r.close_reason && r.close_event_id ? { reason: r.close_reason, eventId: r.close_event_id } : null,
    closeRequestedAt: r.close_requested_at,
  };
}

export async function mergeOrderCreated(
  tx: ClientBase,
  fact: { orderId: string; customerId: string; cardToken: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO payment_orders (order_id, customer_id, order_seen, card_token)
     VALUES ($1, $2, true, $3)
     ON CONFLICT (order_id) DO UPDATE SET
       customer_id = COALESCE(payment_orders.customer_id, EXCLUDED.customer_id),
       card_token  = CASE WHEN payment_orders.order_seen OR payment_orders.inventory_rejected
                          THEN payment_orders.card_token ELSE EXCLUDED.card_token END,
       order_seen  = true,
       updated_at  = now()`,
    [fact.orderId, fact.customerId, fact.cardToken],
  );
}

export async function mergeChargeRequest(
  tx: ClientBase,
  fact: {
    orderId: string;
    customerId: string;
    eventId: string;
    requestedAt: string;
    correlationId: string;
    amount: Money;
    currency: Currency;
  },
): Promise<void> {
  // The first request wins as a whole (all its columns are null until then).
  await tx.query(
    `INSERT INTO payment_orders (order_id, customer_id, charge_event_id, correlation_id, amount, currency,
                                 charge_requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (order_id) DO UPDATE SET
       customer_id = COALESCE(payment_orders.customer_id, EXCLUDED.customer_id),
       charge_event_id = COALESCE(payment_orders.charge_event_id, EXCLUDED.charge_event_id),
       charge_requested_at = COALESCE(payment_orders.charge_requested_at, EXCLUDED.charge_requested_at),
       correlation_id  = COALESCE(payment_orders.correlation_id, EXCLUDED.correlation_id),
       amount   = COALESCE(payment_orders.amount, EXCLUDED.amount),
       currency = COALESCE(payment_orders.currency, EXCLUDED.currency),
       updated_at = now()`,
    [
      fact.orderId,
      fact.customerId,
      fact.eventId,
      fact.correlationId,
      fact.amount,
      fact.currency,
      fact.requestedAt,
    ],
  );
}

/** order.cancelled / delivery.failed: the first close wins (reason, event id and when it happened). */
export async function mergeClose(
  tx: ClientBase,
  reason: CloseReason,
  event: { orderId: string; eventId: string; occurredAt: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO payment_orders (order_id, close_reason, close_event_id, close_requested_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (order_id) DO UPDATE SET
       close_reason   = COALESCE(payment_orders.close_reason, EXCLUDED.close_reason),
       close_event_id = COALESCE(payment_orders.close_event_id, EXCLUDED.close_event_id),
       close_requested_at = CASE WHEN payment_orders.close_event_id IS NULL
                                 THEN EXCLUDED.close_requested_at
                                 ELSE payment_orders.close_requested_at END,
       updated_at = now()`,
    [event.orderId, reason, event.eventId, event.occurredAt],
  );
}

/** Nothing was reserved, so nothing will be charged: drop the token now and refuse it later. */
export async function mergeInventoryRejected(tx: ClientBase, orderId: string): Promise<void> {
  await tx.query(
    `INSERT INTO payment_orders (order_id, inventory_rejected) VALUES ($1, true)
     ON CONFLICT (order_id) DO UPDATE SET inventory_rejected = true, card_token = NULL, updated_at = now()`,
    [orderId],
  );
}

const ORDER_COLUMNS = `order_id, customer_id, order_seen, card_token, charge_event_id, charge_requested_at,
  correlation_id, amount::text AS amount, currency, close_reason, close_event_id, close_requested_at`;

/** The order's facts, row-locked until the transaction ends (serialises one order's decisions). */
export async function lockOrder(tx: ClientBase, orderId: string): Promise<OrderRow | undefined> {
  return (await lockOrders(tx, [orderId])).get(orderId);
}

/**
 * The facts of several orders, row-locked until the transaction ends, in one statement. The locks are
 * taken in order_id order, as every writer of several orders takes them, so two batches never deadlock.
 */
export async function lockOrders(
  tx: ClientBase,
  orderIds: readonly string[],
): Promise<Map<string, OrderRow>> {
  if (orderIds.length === 0) return new Map();
  const result = await tx.query<OrderRecord>(
    `SELECT ${ORDER_COLUMNS} FROM payment_orders WHERE order_id = ANY($1::text[]) ORDER BY order_id FOR UPDATE`,
    [orderIds],
  );
  return new Map(result.rows.map((row) => [row.order_id, toOrder(row)]));
}

/** The token is needed only until the charge is decided. */
export async function clearCardToken(tx: ClientBase, orderId: string): Promise<void> {
  await clearCardTokens(tx, [orderId]);
}

export async function clearCardTokens(tx: ClientBase, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await tx.query(
    `UPDATE payment_orders SET card_token = NULL, updated_at = now()
      WHERE order_id = ANY($1::text[]) AND card_token IS NOT NULL`,
    [orderIds],
  );
}
