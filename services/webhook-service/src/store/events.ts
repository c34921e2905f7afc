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

/**
 * Records a batch's events (idempotent), in batch order so that seq follows it, and the owners the
 * batch's order.created events name: two statements whatever the batch size.
 */
async function recordEvents(tx: ClientBase, events: readonly AnyEvent[]): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_events (event_id, order_id, event_type, causation_id, customer_id, occurred_at, body)
     SELECT event_id, order_id, event_type, causation_id, customer_id, occurred_at, body
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[], $7::text[])
            WITH ORDINALITY AS e(event_id, order_id, event_type, causation_id, customer_id, occurred_at, body, n)
      ORDER BY n
     ON CONFLICT (event_id) DO NOTHING`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.orderId),
      events.map((e) => e.eventType),
      events.map((e) => e.causationId ?? null),
      events.map((e) => customerIdOf(e)),
      events.map((e) => e.occurredAt),
      events.map((e) => webhookBody(e)),
    ],
  );
  const owners = events.flatMap((e) =>
    e.eventType === 'order.created' ? [{ orderId: e.orderId, customerId: e.payload.customerId }] : [],
  );
  if (owners.length === 0) return;
  await tx.query(
    `INSERT INTO webhook_orders (order_id, customer_id)
     SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (order_id) DO NOTHING`,
    [owners.map((o) => o.orderId), owners.map((o) => o.customerId)],
  );
}

interface ReleasedRow {
  event_id: string;
  order_id: string;
  event_type: AnyEvent['eventType'];
  customer_id: string | null;
  seq: string;
  wave: number;
}

/**
 * Releases the held events `roots` selects and, transitively, every held event they caused, in one
 * statement: a cause's wave comes before its effects'. Causes form a tree (one causation id per event),
 * so the recursion visits each event once. The update finds them by key alone: the caller holds their
 * orders' locks, so they are still held (and a filter on released_at could send the planner through
 * the held index, reading all of it).
 */
function releaseStatement(roots: string): string {
  return `WITH RECURSIVE released AS (
       SELECT w.event_id, w.order_id, 1 AS wave FROM webhook_events w WHERE ${roots}
       UNION ALL
       -- Each released event's held effects, within its order (only the batch's orders are locked),
       -- looked up by key per event: OFFSET 0 keeps the planner from turning the lookup into a join
       -- that reads every held event per wave.
       SELECT e.event_id, e.order_id, r.wave + 1 FROM released r
         CROSS JOIN LATERAL (
           SELECT w.event_id, w.order_id FROM webhook_events w
            WHERE w.order_id = r.order_id AND w.causation_id = r.event_id AND w.released_at IS NULL
           OFFSET 0
         ) AS e
     )
     UPDATE webhook_events AS w SET released_at = now() FROM released r
      WHERE w.event_id = r.event_id
     RETURNING w.event_id, w.order_id, w.event_type, w.customer_id, w.seq, r.wave`;
}

/** Held events of the given orders that may go now: no cause, or a cause that was released. */
const RELEASE_READY_OF_ORDERS = releaseStatement(
  `w.order_id = ANY($1::text[]) AND w.released_at IS NULL
   AND (w.causation_id IS NULL OR EXISTS (
     SELECT 1 FROM webhook_events c WHERE c.event_id = w.causation_id AND c.released_at IS NOT NULL))`,
);

/** The given held events, whether or not their cause arrived (the stale sweep). */
const RELEASE_EVENTS = releaseStatement('w.event_id = ANY($1::uuid[]) AND w.released_at IS NULL');

/**
 * Runs a release statement and queues one delivery per selecting endpoint for each released event, in
 * release order (causes first, then received order). Returns how many events were released.
 */
async function release(
  tx: ClientBase,
  statement: string,
  param: readonly string[],
  endpoints: readonly Endpoint[],
): Promise<number> {
  const { rows } = await tx.query<ReleasedRow>(statement, [param]);
  if (rows.length === 0 || endpoints.length === 0) return rows.length;
  rows.sort((a, b) => a.wave - b.wave || Number(a.seq) - Number(b.seq));
  const ownerOf = new Map<string, string>();
  if (endpoints.some((e) => e.customerId !== null)) {
    const owners = await tx.query<{ order_id: string; customer_id: string }>(
      'SELECT order_id, customer_id FROM webhook_orders WHERE order_id = ANY($1::text[])',
      [[...new Set(rows.map((r) => r.order_id))]],
    );
    for (const o of owners.rows) ownerOf.set(o.order_id, o.customer_id);
  }
  const queued: { endpointId: string; eventId: string; orderId: string }[] = [];
  for (const row of rows) {
    // The owner is the order.created's, else the event's own.
    const customerId = ownerOf.get(row.order_id) ?? row.customer_id;
    for (const target of selectEndpoints(endpoints, row.event_type, customerId)) {
      queued.push({ endpointId: target.id, eventId: row.event_id, orderId: row.order_id });
    }
  }
  if (queued.length > 0) {
    await tx.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, order_id)
       SELECT endpoint_id, event_id, order_id
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS d(endpoint_id, event_id, order_id, n)
        ORDER BY n`,
      [queued.map((q) => q.endpointId), queued.map((q) => q.eventId), queued.map((q) => q.orderId)],
    );
  }
  return rows.length;
}

/**
 * A batch's consumed events, inside its transaction (their orders already locked): recorded, then every
 * held event of those orders whose cause is released goes, with what it unblocks; the rest are held.
 * Before the batch no held event had a released cause (each release takes its effects along), so this
 * releases exactly what admitting the events one by one would. Returns how many events were released.
 */
export async function admitEvents(
  tx: ClientBase,
  events: readonly AnyEvent[],
  endpoints: readonly Endpoint[],
): Promise<number> {
  if (events.length === 0) return 0;
  await recordEvents(tx, events);
  return release(tx, RELEASE_READY_OF_ORDERS, [...new Set(events.map((e) => e.orderId))], endpoints);
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

/**
 * Releases an order's stale held events, each with what it unblocks: first those whose own cause is
 * not held (it never arrived, or is gone), oldest first, so a held chain goes out cause first; an
 * event whose cause is held too goes with that cause's cascade.
 */
export async function releaseStale(
  tx: ClientBase,
  orderId: string,
  holdMaxMs: number,
  endpoints: readonly Endpoint[],
): Promise<number> {
  let released = 0;
  for (;;) {
    const { rows } = await tx.query<{ event_id: string }>(
      `SELECT event_id FROM webhook_events w
        WHERE order_id = $1 AND released_at IS NULL AND received_at < now() - $2::float8 * interval '1 millisecond'
        ORDER BY EXISTS (SELECT 1 FROM webhook_events c WHERE c.event_id = w.causation_id AND c.released_at IS NULL),
                 seq
        LIMIT 1`,
      [orderId, holdMaxMs],
    );
    if (!rows[0]) return released;
    released += await release(tx, RELEASE_EVENTS, [rows[0].event_id], endpoints);
  }
}
