import type { OrderFacts, OrderStatus } from '@dispatch/contracts';
import type { ClientBase } from 'pg';
import {
  CANCELLABLE_STATUSES,
  type CancellableOrder,
  type CancelledBy,
  type RecordedCancellation,
} from '../domain/cancellation';
import type { AgedOrder } from '../domain/deadline';
import type { OrderDraft } from '../domain/order';
import type { OrderProgress } from '../domain/progress';

/** The orders and order_lines tables. Every function runs inside the caller's transaction `tx`. */

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Inserts the order and its lines in one statement (one round trip): the order in a data-modifying
 * CTE, the lines by the outer INSERT. Their foreign key is checked at the end of the statement, when
 * the order row exists.
 */
export async function insertOrder(tx: ClientBase, draft: OrderDraft): Promise<void> {
  const values: unknown[] = [
    draft.orderId,
    draft.customerId,
    draft.currency,
    draft.totalAmount,
    draft.status,
    JSON.stringify(draft.deliveryAddress),
    draft.paymentMethodType,
    JSON.stringify(draft.facts),
    draft.created.eventId,
    draft.createdAt,
  ];
  const tuples = draft.lines.map((line, i) => {
    // NULL: the customer named no price; inventory prices the line from its catalogue.
    values.push(i + 1, line.itemId, line.quantity, line.unitPrice ?? null);
    const p = 11 + i * 4;
    return `($1, $${p}, $${p + 1}, $${p + 2}, $${p + 3})`;
  });
  await tx.query(
    `WITH new_order AS (
       INSERT INTO orders (order_id, customer_id, currency, total_amount, status, delivery_address,
                           payment_method_type, facts, created_event_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9, $10, $10)
     )
     INSERT INTO order_lines (order_id, line_no, item_id, quantity, unit_price) VALUES ${tuples.join(', ')}`,
    values,
  );
}

const ORDER_COLUMNS =
  'order_id, customer_id, status, facts, created_event_id, cancelled_at, cancelled_by, cancel_event_id';

interface OrderRow {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  facts: OrderFacts;
  created_event_id: string;
  cancelled_at: Date | null;
  cancelled_by: CancelledBy | null;
  cancel_event_id: string | null;
}

/**
 * Reads the order and locks its row until `tx` ends (SELECT … FOR UPDATE), so one order's writes and
 * the outbox rows they enqueue are serialised. Undefined when there is no such order (ids that are not
 * UUIDs cannot be ours: events of other systems' orders are ignored).
 */
export async function lockOrder(tx: ClientBase, orderId: string): Promise<CancellableOrder | undefined> {
  if (!UUID_PATTERN.test(orderId)) return undefined;
  const result = await tx.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE order_id = $1 FOR UPDATE`,
    [orderId],
  );
  const row = result.rows[0];
  return row ? toCancellableOrder(row) : undefined;
}

/**
 * Reads these orders (those that exist here) and locks their rows until `tx` ends, in orderId order so
 * lockers never deadlock: one statement for a whole batch.
 */
export async function lockOrders(
  tx: ClientBase,
  orderIds: readonly string[],
): Promise<Map<string, CancellableOrder>> {
  const ids = [...new Set(orderIds)].filter((id) => UUID_PATTERN.test(id));
  if (ids.length === 0) return new Map();
  const result = await tx.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE order_id = ANY ($1::uuid[]) ORDER BY order_id FOR UPDATE`,
    [ids],
  );
  return new Map(result.rows.map((row) => [row.order_id, toCancellableOrder(row)]));
}

/**
 * The cancellable statuses as SQL literals, so the planner can match orders_cancellable_created_idx's
 * predicate. As a parameter (`status = ANY ($1)`) it cannot: once the named statement's plan turns
 * generic, the sweep scanned every order older than the deadline, finished ones included, each pass.
 * The statuses are the domain's own constants, never input.
 */
const CANCELLABLE_STATUS_LITERALS = CANCELLABLE_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Picks the oldest order that has been in a cancellable status for longer than `deadlineMs` (by the
 * database clock, so every instance agrees) and is not locked by anyone, and locks it until `tx` ends.
 * SKIP LOCKED lets several sweepers run at once, each taking different orders, without waiting on
 * orders a consumer or a cancel request is updating right now (the next sweep finds them). `skip`:
 * orders this sweep already decided to leave. Served by orders_cancellable_created_idx.
 */
export async function lockNextStuckOrder(
  tx: ClientBase,
  deadlineMs: number,
  skip: readonly string[],
): Promise<AgedOrder | undefined> {
  const result = await tx.query<OrderRow & { age_ms: number }>(
    `SELECT ${ORDER_COLUMNS}, (EXTRACT(EPOCH FROM now() - created_at) * 1000)::float8 AS age_ms
       FROM orders
      WHERE status IN (${CANCELLABLE_STATUS_LITERALS})
        AND cancelled_at IS NULL
        AND created_at < now() - $1 * interval '1 millisecond'
        AND order_id <> ALL ($2::uuid[])
      ORDER BY created_at
      LIMIT 1
      FOR UPDATE SKIP LOCKED`,
    [deadlineMs, skip],
  );
  const row = result.rows[0];
  return row ? { ...toCancellableOrder(row), ageMs: row.age_ms } : undefined;
}

function toCancellableOrder(row: OrderRow): CancellableOrder {
  const cancellation: RecordedCancellation | undefined =
    row.cancelled_at && row.cancelled_by && row.cancel_event_id
      ? {
          cancelledAt: row.cancelled_at.toISOString(),
          cancelledBy: row.cancelled_by,
          eventId: row.cancel_event_id,
        }
      : undefined;
  return {
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    // Only this service writes the column, always from a typed OrderFacts.
    facts: row.facts,
    createdEventId: row.created_event_id,
    ...(cancellation ? { cancellation } : {}),
  };
}

/** Stores orders' folded facts and derived status: one statement for a whole batch. */
export async function saveProgress(
  tx: ClientBase,
  updates: readonly { orderId: string; progress: OrderProgress }[],
): Promise<void> {
  if (updates.length === 0) return;
  await tx.query(
    `UPDATE orders AS o SET facts = u.facts, status = u.status, updated_at = now()
       FROM unnest($1::uuid[], $2::jsonb[], $3::text[]) AS u(order_id, facts, status)
      WHERE o.order_id = u.order_id`,
    [
      updates.map((u) => u.orderId),
      updates.map((u) => JSON.stringify(u.progress.facts)),
      updates.map((u) => u.progress.status),
    ],
  );
}

/** Records the cancellation together with the progress it leads to. */
export async function markCancelled(
  tx: ClientBase,
  orderId: string,
  progress: OrderProgress,
  cancellation: RecordedCancellation & { reason?: string },
): Promise<void> {
  await tx.query(
    `UPDATE orders
        SET facts = $2::jsonb, status = $3, updated_at = now(),
            cancelled_at = $4, cancelled_by = $5, cancel_reason = $6, cancel_event_id = $7
      WHERE order_id = $1`,
    [
      orderId,
      JSON.stringify(progress.facts),
      progress.status,
      cancellation.cancelledAt,
      cancellation.cancelledBy,
      cancellation.reason ?? null,
      cancellation.eventId,
    ],
  );
}
