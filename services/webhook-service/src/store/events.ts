import type { AnyEvent } from '@dispatch/contracts';
import type { ClientBase } from 'pg';
import { customerIdOf, selectEndpoints, webhookBody } from '../domain/selection';
import type { Endpoint } from './endpoints';

/**
 * Takes every order's lock of a batch, in one order (the locks' own keys), so that two batches that
 * hold events of one order (from two topics) run one after the other and each sees what the other
 * released: the cause and the effect then never both wait for each other.
 */
export async function lockOrders(tx: ClientBase, orderIds: readonly string[]): Promise<void> {
  await tx.query(
    `SELECT pg_advisory_xact_lock(k) FROM (
       SELECT DISTINCT hashtextextended(o, 7411) AS k FROM unnest($1::text[]) AS o
     ) AS keys ORDER BY k`,
    [[...new Set(orderIds)]],
  );
}

/** Records a consumed event (idempotent) and, for order.created, the order's owner. */
export async function recordEvent(tx: ClientBase, event: AnyEvent): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_events (event_id, order_id, event_type, causation_id, customer_id, occurred_at, body)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
    [
      event.eventId,
      event.orderId,
      event.eventType,
      event.causationId ?? null,
      customerIdOf(event),
      event.occurredAt,
      webhookBody(event),
    ],
  );
  if (event.eventType === 'order.created') {
    await tx.query(
      'INSERT INTO webhook_orders (order_id, customer_id) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING',
      [event.orderId, event.payload.customerId],
    );
  }
}

interface HeldRow {
  event_id: string;
  order_id: string;
  event_type: AnyEvent['eventType'];
  customer_id: string | null;
}

/** True when the event may be released now: it has no cause, or its cause was released. */
async function causeReleased(tx: ClientBase, event: AnyEvent): Promise<boolean> {
  if (!event.causationId) return true;
  const { rows } = await tx.query<{ released: boolean }>(
    'SELECT released_at IS NOT NULL AS released FROM webhook_events WHERE event_id = $1',
    [event.causationId],
  );
  return rows[0]?.released ?? false;
}

/**
 * Releases one event to the endpoints that select it, then every held event of the same order it
 * caused (and what those caused), in the order they were received. Returns how many were released.
 */
async function releaseCascade(
  tx: ClientBase,
  first: HeldRow,
  endpoints: readonly Endpoint[],
): Promise<number> {
  let released = 0;
  let wave: HeldRow[] = [first];
  while (wave.length > 0) {
    for (const event of wave) {
      const { rowCount } = await tx.query(
        'UPDATE webhook_events SET released_at = now() WHERE event_id = $1 AND released_at IS NULL',
        [event.event_id],
      );
      if (!rowCount) continue;
      released += 1;
      await fanOut(tx, event, endpoints);
    }
    const { rows } = await tx.query<HeldRow>(
      `SELECT event_id, order_id, event_type, customer_id FROM webhook_events
        WHERE order_id = $1 AND released_at IS NULL AND causation_id = ANY($2::uuid[])
        ORDER BY seq`,
      [first.order_id, wave.map((e) => e.event_id)],
    );
    wave = rows;
  }
  return released;
}

/** Queues one delivery per selecting endpoint. The owner is the order.created's, else the event's own. */
async function fanOut(tx: ClientBase, event: HeldRow, endpoints: readonly Endpoint[]): Promise<void> {
  let customerId = event.customer_id;
  if (endpoints.some((e) => e.customerId !== null)) {
    const { rows } = await tx.query<{ customer_id: string }>(
      'SELECT customer_id FROM webhook_orders WHERE order_id = $1',
      [event.order_id],
    );
    customerId = rows[0]?.customer_id ?? customerId;
  }
  const targets = selectEndpoints(endpoints, event.event_type, customerId);
  if (targets.length === 0) return;
  await tx.query(
    `INSERT INTO webhook_deliveries (endpoint_id, event_id, order_id)
     SELECT e, $2, $3 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(e, n) ORDER BY n`,
    [targets.map((t) => t.id), event.event_id, event.order_id],
  );
}

/**
 * A consumed event, inside its batch's transaction (its order already locked): released with what it
 * unblocks if its cause is released, else held. Returns how many events were released.
 */
export async function admitEvent(
  tx: ClientBase,
  event: AnyEvent,
  endpoints: readonly Endpoint[],
): Promise<number> {
  await recordEvent(tx, event);
  if (!(await causeReleased(tx, event))) return 0;
  return releaseCascade(
    tx,
    {
      event_id: event.eventId,
      order_id: event.orderId,
      event_type: event.eventType,
      customer_id: customerIdOf(event),
    },
    endpoints,
  );
}

/**
 * Events held longer than `holdMaxMs` (their cause never arrived: it was dead-lettered, say), oldest
 * first: released by the periodic sweep, one order per transaction.
 */
export async function staleHeldOrders(tx: ClientBase, holdMaxMs: number, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ order_id: string }>(
    `SELECT order_id FROM webhook_events
      WHERE released_at IS NULL AND received_at < now() - $1::float8 * interval '1 millisecond'
      GROUP BY order_id ORDER BY min(seq) LIMIT $2`,
    [holdMaxMs, limit],
  );
  return rows.map((r) => r.order_id);
}

/** Releases an order's stale held events (oldest first, each with what it unblocks). */
export async function releaseStale(
  tx: ClientBase,
  orderId: string,
  holdMaxMs: number,
  endpoints: readonly Endpoint[],
): Promise<number> {
  let released = 0;
  for (;;) {
    const { rows } = await tx.query<HeldRow>(
      `SELECT event_id, order_id, event_type, customer_id FROM webhook_events
        WHERE order_id = $1 AND released_at IS NULL AND received_at < now() - $2::float8 * interval '1 millisecond'
        ORDER BY seq LIMIT 1`,
      [orderId, holdMaxMs],
    );
    if (!rows[0]) return released;
    released += await releaseCascade(tx, rows[0], endpoints);
  }
}
