import { type AnyEvent, TRACEPARENT_HEADER, topicForEventType } from '@dispatch/contracts';
import type { ClientBase, Pool } from 'pg';
import { currentTraceparent } from './tracing-context';

/*
 * The outbox table: services enqueue events inside their own transactions; the relay that publishes
 * them (outbox-relay.ts) reads and marks them through the queries at the end.
 */

/** The LISTEN/NOTIFY channel: enqueue notifies it so the relay wakes as soon as the writer commits. */
export const OUTBOX_CHANNEL = 'outbox';

export interface EnqueueOptions {
  /** Kafka headers for every event of this call. */
  headers?: Record<string, string>;
  /** W3C trace context, stored as the `traceparent` header. Default: the active span's. */
  traceparent?: string;
}

/**
 * Writes events to the outbox inside the caller's transaction `tx` (topic from the event type,
 * key = orderId), so they are published if and only if the state change commits. Also queues a
 * NOTIFY, which PostgreSQL delivers on commit, to wake the relay. Events get ids in array order, so a
 * transaction's events for one order are published in the order given. Returns the row ids.
 */
export async function enqueue(
  tx: ClientBase,
  events: readonly AnyEvent[],
  opts: EnqueueOptions = {},
): Promise<string[]> {
  const headers: Record<string, string> = { ...opts.headers };
  // The active trace (the request or consumed event that caused these events) travels with them.
  const traceparent = opts.traceparent ?? currentTraceparent();
  if (traceparent) headers[TRACEPARENT_HEADER] = traceparent;
  return enqueueEntries(
    tx,
    events.map((event) => ({ event, headers })),
  );
}

/** One event to enqueue and the Kafka headers it is published with. */
export interface OutboxEntry {
  event: AnyEvent;
  headers: Record<string, string>;
}

/** enqueue with headers of each event's own (a batch of consumed events, each with its trace): one insert. */
export async function enqueueEntries(tx: ClientBase, rows: readonly OutboxEntry[]): Promise<string[]> {
  if (rows.length === 0) return [];
  // One statement text whatever the row count (it stays one prepared statement); ORDER BY the
  // ordinality inserts in array order, so ids follow the array. The NOTIFY goes in the same statement
  // (a volatile CTE runs once), one round trip fewer per transaction.
  const inserted = await tx.query<{ id: string; event_id: string }>(
    `WITH inserted AS (
       INSERT INTO outbox (topic, message_key, event_id, event_type, payload, headers)
       SELECT topic, message_key, event_id, event_type, payload, headers
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
              WITH ORDINALITY AS r(topic, message_key, event_id, event_type, payload, headers, n)
        ORDER BY n
       RETURNING id, event_id),
     notified AS (SELECT pg_notify($7, ''))
     SELECT id, event_id FROM inserted, notified`,
    [
      rows.map(({ event }) => topicForEventType(event.eventType)),
      rows.map(({ event }) => event.orderId),
      rows.map(({ event }) => event.eventId),
      rows.map(({ event }) => event.eventType),
      rows.map(({ event }) => JSON.stringify(event)),
      rows.map(({ headers }) => JSON.stringify(headers)),
      OUTBOX_CHANNEL,
    ],
  );
  const idByEventId = new Map(inserted.rows.map((row) => [row.event_id, row.id]));
  return rows.map(({ event }) => idByEventId.get(event.eventId) ?? '');
}

export interface OutboxBacklog {
  /** Committed rows not yet published. */
  rows: number;
  /** Age of the oldest of them in seconds (0 when there are none). */
  oldestAgeSeconds: number;
}

/** Reads the backlog from the partial index on unsent rows. */
export async function readOutboxBacklog(db: Pool | ClientBase): Promise<OutboxBacklog> {
  const result = await db.query<{ rows: number; oldest: number }>(
    `SELECT count(*)::int AS rows,
            COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
       FROM outbox WHERE sent_at IS NULL`,
  );
  const row = result.rows[0];
  return { rows: row?.rows ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
}

// ---- what the relay reads and writes (outbox-relay.ts) ----

/** An unsent row, as the relay publishes it. */
export interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  payload: AnyEvent;
  headers: Record<string, string>;
}

/**
 * Claims the oldest unsent rows: marks them sent and returns them in id order, locked until the
 * caller's transaction ends (waiting, not SKIP LOCKED: why is in OutboxRelay's comment). The mark
 * only counts if the caller commits, which it does after publishing; a rollback leaves them unsent.
 * One statement instead of a SELECT … FOR UPDATE and an UPDATE.
 */
export async function claimUnsentBatch(tx: ClientBase, limit: number): Promise<OutboxRow[]> {
  const { rows } = await tx.query<OutboxRow>(
    `UPDATE outbox SET sent_at = now()
      WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE)
     RETURNING id, topic, message_key, payload, headers`,
    [limit],
  );
  // RETURNING has no order; per-order publish order is id order.
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
}

/** Deletes up to `limit` rows sent more than `retentionMs` ago, oldest first; returns how many. */
export async function deleteSentRows(
  db: Pool | ClientBase,
  retentionMs: number,
  limit: number,
): Promise<number> {
  const result = await db.query(
    `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox
        WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1)
        ORDER BY sent_at LIMIT $2)`,
    [retentionMs / 1000, limit],
  );
  return result.rowCount ?? 0;
}
